"""Search API shapes: query parameters (validated field by field here, across fields in the
service) and responses."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from storage.search.base import RESULT_WINDOW, SortKey, SuggestionType, VisitType

Lang = Literal["en", "fr"]
MAX_RADIUS_KM = 200
MAX_PAGE_SIZE = 50
# Deep pages cost a sort of everything before them and nobody reads them: refine instead.
MAX_RESULT_WINDOW = RESULT_WINDOW
MAX_AVAILABLE_WITHIN_DAYS = 90


# Seven decimals are 1 cm; beyond that, subnormal floats underflow PostgreSQL's trigonometry.
Degrees = Annotated[float, AfterValidator(lambda degrees: round(degrees, 7))]
MIN_RADIUS_KM = 0.001  # 1 m: a smaller radius is no search, and underflows the distance maths


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _blank_means_absent(cls, data: Any) -> Any:
        # A search form sends every field, filled or not: "?specialty=&lat=" filters nothing.
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
        return data


class DoctorSearchParams(_Params):
    q: str | None = Field(None, max_length=100, description="Free text: name, specialty, city")
    specialty: str | None = Field(
        None, max_length=64, description="Specialty code or its English/French name"
    )
    location: str | None = Field(None, max_length=100, description="A city or a postcode")
    city: str | None = Field(None, max_length=100)
    postcode: str | None = Field(None, pattern=r"^[0-9A-Za-z][0-9A-Za-z -]{0,9}$")
    lat: Degrees | None = Field(None, ge=-90, le=90, allow_inf_nan=False)
    lon: Degrees | None = Field(None, ge=-180, le=180, allow_inf_nan=False)
    radius: float | None = Field(
        None,
        ge=MIN_RADIUS_KM,
        le=MAX_RADIUS_KM,
        allow_inf_nan=False,
        description="Kilometres (needs lat/lon)",
    )
    min_rating: float | None = Field(None, ge=0, le=5, allow_inf_nan=False)
    max_fee: int | None = Field(None, ge=0, description="Minor units (cents)")
    visit_type: VisitType | None = None
    language: str | None = Field(None, pattern=r"^[a-z]{2}$", description="ISO 639-1")
    accepts_new_patients: bool | None = None
    available_within_days: int | None = Field(None, ge=0, le=MAX_AVAILABLE_WITHIN_DAYS)
    sort: SortKey = "relevance"
    page: int = Field(1, ge=1)
    size: int = Field(20, ge=1, le=MAX_PAGE_SIZE)
    lang: Lang = "en"


class NearbyParams(_Params):
    lat: Degrees = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: Degrees = Field(ge=-180, le=180, allow_inf_nan=False)
    radius: float = Field(
        10, ge=MIN_RADIUS_KM, le=MAX_RADIUS_KM, allow_inf_nan=False, description="km"
    )
    specialty: str | None = Field(None, max_length=64)
    limit: int = Field(20, ge=1, le=100)
    lang: Lang = "en"


class SuggestionParams(_Params):
    q: str = Field(min_length=1, max_length=100)
    limit: int = Field(5, ge=1, le=10, description="Per type")
    lang: Lang = "en"


class SpecialtyOut(BaseModel):
    code: str
    name: str


class DoctorResult(BaseModel):
    id: uuid.UUID
    name: str
    first_name: str
    last_name: str
    photo: str | None
    specializations: list[SpecialtyOut]
    city: str
    postcode: str
    fee: int = Field(description="Consultation fee, minor units")
    currency: str
    rating: float
    total_reviews: int
    languages: list[str]
    accepts_new_patients: bool
    visit_types: list[VisitType]
    next_available: datetime | None = Field(
        description="First free slot (of the requested visit type), ISO 8601"
    )
    distance_km: float | None = Field(description="When lat/lon were given")
    time_zone: str = Field(
        description="The doctor's IANA time zone (e.g. Europe/Paris): the practice's clock, "
        "in which `next_available` is a wall-clock time"
    )


class FacetOut(BaseModel):
    value: str
    label: str
    count: int


class Facets(BaseModel):
    specialties: list[FacetOut]
    cities: list[FacetOut]


class DoctorSearchPage(BaseModel):
    items: list[DoctorResult]
    total: int = Field(
        description=f"Matching doctors, counted up to {RESULT_WINDOW:,}: when more match, "
        f"`total` is {RESULT_WINDOW:,} and `total_exact` is false"
    )
    total_exact: bool = Field(
        description=f"False when more than {RESULT_WINDOW:,} doctors match: results and facets "
        f"may then come from only {RESULT_WINDOW:,} of them, the first in the requested order "
        f"(text ranked by relevance: the first {RESULT_WINDOW:,} found); narrow the search to "
        "rank them all"
    )
    page: int
    size: int
    facets: Facets


class NearbyPage(BaseModel):
    items: list[DoctorResult]


class SuggestionOut(BaseModel):
    type: SuggestionType
    label: str
    value: str = Field(description="Doctor id, specialty code or city name")
    id: uuid.UUID | None = Field(None, description="Doctors only")
    labels: dict[Lang, str] | None = Field(None, description="Specialties: English and French")


class SuggestionList(BaseModel):
    items: list[SuggestionOut]
