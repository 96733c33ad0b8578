"""The one interface every doctor-search backend implements, and the plain values it speaks.

The system of record for search is the `search.doctor_index` table (storage/search/index.py),
kept current by the indexer from events. The PostgreSQL backend queries it directly; the
Elasticsearch backend mirrors it into an index (`sync`, `rebuild`) and queries that.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

import asyncpg

VisitType = Literal["in-person", "teleconsultation"]
SortKey = Literal["relevance", "distance", "rating", "fee", "next_available"]
SuggestionType = Literal["doctor", "specialty", "city"]

# Called with (done, total) while a rebuild runs.
Progress = Callable[[int, int], None]

# Facets show the most frequent values only: a results page has no room for more.
FACET_SIZE = 20
# A search reads at most this many matches: results stop here (deeper pages are refused), the
# total is exact up to it and a lower bound beyond. Counting every one of 15,000 matches costs
# more than 10 ms of row work on PostgreSQL; a search that broad wants narrowing, not counting.
RESULT_WINDOW = 1000


@dataclass(frozen=True)
class DoctorQuery:
    """`text` and `city` come folded (storage/search/folding.py), as the index holds them."""

    text: str | None = None
    specialty: str | None = None  # code
    city: str | None = None
    postcode: str | None = None  # prefix
    lat: float | None = None
    lon: float | None = None
    radius_km: float | None = None
    min_rating: float | None = None
    max_fee: int | None = None  # minor units
    visit_type: VisitType | None = None
    language: str | None = None
    accepts_new_patients: bool | None = None
    available_before: datetime | None = None  # next free slot (of visit_type) before this
    sort: SortKey = "relevance"
    offset: int = 0
    limit: int = 20


@dataclass(frozen=True)
class NearbyQuery:
    lat: float
    lon: float
    radius_km: float
    limit: int = 20
    specialty: str | None = None


@dataclass(frozen=True)
class DoctorHit:
    doctor_id: uuid.UUID
    first_name: str
    last_name: str
    specializations: list[str]
    city: str
    postcode: str
    consultation_fee: int
    currency: str
    rating: float
    total_reviews: int
    languages: list[str]
    accepts_new_patients: bool
    profile_image_url: str | None
    visit_types: list[VisitType]
    next_available: datetime | None  # for the query's visit type, when it has one
    distance_km: float | None
    time_zone: str  # the doctor's IANA zone: slots are the practice's wall-clock times


@dataclass(frozen=True)
class FacetCount:
    value: str
    count: int


@dataclass(frozen=True)
class SearchResult:
    hits: list[DoctorHit]
    total: int  # at most RESULT_WINDOW
    total_exact: bool  # False: more than RESULT_WINDOW doctors match
    specialties: list[FacetCount]
    cities: list[FacetCount]


@dataclass(frozen=True)
class Suggestion:
    type: SuggestionType
    label: str
    value: str


class SearchBackend(Protocol):
    """Queries over verified doctors, and how the backend follows `search.doctor_index`."""

    name: str

    async def search(self, query: DoctorQuery) -> SearchResult: ...

    async def nearby(self, query: NearbyQuery) -> list[DoctorHit]: ...

    async def suggest(self, text: str, limit: int) -> list[Suggestion]:
        """Doctor names and cities matching a prefix or a near miss of the folded `text`
        (specialties are shared)."""
        ...

    async def sync(self, con: asyncpg.Connection, doctor_ids: Sequence[uuid.UUID]) -> None:
        """Make these doctors match their index rows (read on `con`, inside its transaction)."""
        ...

    async def rebuild(self, pool: asyncpg.Pool, progress: Progress, started: datetime) -> None:
        """Make the whole backend match `search.doctor_index`; `started`: the server clock's
        instant before the rebuild (rows indexed since are replayed)."""
        ...

    async def close(self) -> None: ...


def hit_from_row(
    row: Mapping[str, Any], visit_type: VisitType | None, distance_km: float | None
) -> DoctorHit:
    """A result from an index row (or a document with the same field names)."""
    offered: list[VisitType] = []
    if row["offers_in_person"]:
        offered.append("in-person")
    if row["offers_teleconsultation"]:
        offered.append("teleconsultation")
    next_slot = {
        None: row["next_available"],
        "in-person": row["next_in_person"],
        "teleconsultation": row["next_teleconsultation"],
    }[visit_type]
    return DoctorHit(
        doctor_id=found if isinstance(found := row["doctor_id"], uuid.UUID) else uuid.UUID(found),
        first_name=row["first_name"],
        last_name=row["last_name"],
        specializations=list(row["specializations"]),
        city=row["city"],
        postcode=row["postcode"],
        consultation_fee=int(row["consultation_fee"]),
        currency=row["currency"],
        rating=float(row["rating"]),
        total_reviews=int(row["total_reviews"]),
        languages=list(row["languages"]),
        accepts_new_patients=bool(row["accepts_new_patients"]),
        profile_image_url=row["profile_image_url"],
        visit_types=offered,
        next_available=next_slot,
        distance_km=None if distance_km is None else round(float(distance_km), 3),
        time_zone=row["time_zone"],
    )
