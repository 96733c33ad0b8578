"""Request and response bodies of the doctors API (the public contract in /openapi.json)."""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    model_validator,
)

from server.errors import NOT_NULL, FieldCode
from server.readonly import ReadOnly, non_null_in_schema, read_only_fields
from server.textguard import Printable

VerificationStatus = Literal["unverified", "verified", "rejected"]

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), Printable
]
SpecializationCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z-]{1,48}$")]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]  # ISO 639-1
License = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ./-]{2,39}$")
]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]  # ISO 4217
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]  # ISO 3166-1 alpha-2
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), Printable]
# 100 000.00 in any currency is beyond any consultation fee: larger is a unit mistake.
MAX_FEE_MINOR = 10_000_000


# Files of the zoneinfo directory that are not IANA zones: "localtime" is the machine's own
# zone (differs per node), "Factory" is "-00" by design, "posixrules" a build artefact.
NOT_ZONES = frozenset({"localtime", "Factory", "posixrules"})
_NOT_ZONE_DIRS = ("posix/", "right/", "SystemV/")


@lru_cache(maxsize=1)
def time_zones() -> frozenset[str]:
    """IANA zone names a doctor may use: canonical zones and IANA's backward-compatible links
    ("US/Eastern", "Asia/Calcutta"), which zoneinfo resolves to the same rules; never names
    that only exist as files on some machine."""
    return frozenset(
        z for z in available_timezones() if z not in NOT_ZONES and not z.startswith(_NOT_ZONE_DIRS)
    )


UNKNOWN_ZONE = FieldCode("unknown_time_zone", "not an IANA time zone name (e.g. Europe/Paris)")
NOT_DISTINCT = FieldCode("not_distinct", "values must be distinct")
COORDINATES_PAIR = FieldCode("coordinates_pair", "latitude and longitude go together")


def _iana_zone(value: str) -> str:
    if value not in time_zones():
        raise UNKNOWN_ZONE.error()
    return value


def _distinct(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise NOT_DISTINCT.error()
    return values


TimeZone = Annotated[str, AfterValidator(_iana_zone)]
Specializations = Annotated[
    list[SpecializationCode], Field(min_length=1, max_length=10), AfterValidator(_distinct)
]
Languages = Annotated[list[LanguageCode], Field(max_length=20), AfterValidator(_distinct)]
Fee = Annotated[int, Field(strict=True, ge=0, le=MAX_FEE_MINOR)]
Experience = Annotated[int, Field(strict=True, ge=0, le=80)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]

# Columns a PUT may set to null; every other field, when present, needs a value.
NULLABLE_FIELDS = frozenset({"profile_image_url", "latitude", "longitude"})


class DoctorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: uuid.UUID | None = Field(
        None, description="Admins only: the doctor account the profile belongs to."
    )
    first_name: Name
    last_name: Name
    specializations: Specializations
    license_number: License
    years_of_experience: Experience = 0
    consultation_fee: Fee = Field(description="Minor units (cents) of `currency`.")
    currency: Currency = "EUR"
    bio: Annotated[str, StringConstraints(max_length=5000), Printable] = ""
    profile_image_url: HttpUrl | None = None
    languages: Languages = Field(default_factory=list)
    address_line: ShortText = ""
    city: ShortText = ""
    postcode: Annotated[str, StringConstraints(strip_whitespace=True, max_length=16), Printable] = (
        ""
    )
    country: Country = "FR"
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    time_zone: TimeZone = "Europe/Paris"
    accepts_new_patients: bool = True

    @model_validator(mode="after")
    def _coordinates_together(self) -> DoctorCreate:
        if (self.latitude is None) != (self.longitude is None):
            raise COORDINATES_PAIR.error()
        return self


class DoctorUpdate(BaseModel):
    """Partial update: fields left out keep their value."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=non_null_in_schema(NULLABLE_FIELDS))

    id: ReadOnly
    user_id: ReadOnly
    verification_status: ReadOnly
    verified_at: ReadOnly
    rating: ReadOnly
    total_reviews: ReadOnly
    created_at: ReadOnly
    updated_at: ReadOnly
    first_name: Name | None = None
    last_name: Name | None = None
    specializations: Specializations | None = None
    license_number: License | None = None
    years_of_experience: Experience | None = None
    consultation_fee: Fee | None = None
    currency: Currency | None = None
    bio: Annotated[str, StringConstraints(max_length=5000), Printable] | None = None
    profile_image_url: HttpUrl | None = None
    languages: Languages | None = None
    address_line: ShortText | None = None
    city: ShortText | None = None
    postcode: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=16), Printable] | None
    ) = None
    country: Country | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    time_zone: TimeZone | None = None
    accepts_new_patients: bool | None = None

    @model_validator(mode="after")
    def _no_null_for_required(self) -> DoctorUpdate:
        editable = self.model_fields_set - NULLABLE_FIELDS - read_only_fields(DoctorUpdate)
        nulls = [name for name in editable if getattr(self, name) is None]
        if nulls:
            raise NOT_NULL.error(fields=", ".join(sorted(nulls)))
        return self

    def changes(self) -> dict[str, Any]:
        values = self.model_dump(include=self.model_fields_set - read_only_fields(DoctorUpdate))
        if values.get("profile_image_url") is not None:
            values["profile_image_url"] = str(self.profile_image_url)
        return values


class Specialization(BaseModel):
    code: str
    name_en: str
    name_fr: str


class DoctorOut(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    first_name: str
    last_name: str
    specializations: list[str]
    license_number: str
    years_of_experience: int
    consultation_fee: int
    currency: str
    bio: str
    profile_image_url: str | None
    languages: list[str]
    address_line: str
    city: str
    postcode: str
    country: str
    latitude: float | None
    longitude: float | None
    time_zone: str
    accepts_new_patients: bool
    verification_status: VerificationStatus
    verified_at: datetime | None
    rating: float = Field(description="Average of the reviews, 0 when there are none.")
    total_reviews: int
    created_at: datetime
    updated_at: datetime


class RejectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000), Printable] = (
        ""
    )


class ReviewCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    appointment_id: uuid.UUID = Field(description="A completed appointment with this doctor.")
    rating: Annotated[int, Field(strict=True, ge=1, le=5)]
    comment: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=2000), Printable
    ] = ""


class ReviewOut(BaseModel):
    id: uuid.UUID
    doctor_id: uuid.UUID
    appointment_id: uuid.UUID
    rating: int
    comment: str
    created_at: datetime


class ReviewsPage(BaseModel):
    items: list[ReviewOut]
    total: int
    limit: int
    offset: int


class ReviewPosted(BaseModel):
    review: ReviewOut
    average_rating: float
    total_reviews: int
