"""Turn validated API parameters into backend queries: the rules that span several fields, and
specialty codes or names resolved against the catalogue."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from server import clock
from server.errors import FieldCode, InvalidInput, Reason
from server.search.schemas import MAX_RESULT_WINDOW, DoctorSearchParams, Lang
from storage.search import catalog
from storage.search.base import DoctorQuery

_WORDS = re.compile(r"[^\W_]+")
_POSTCODE = re.compile(r"^\d[0-9A-Za-z -]{0,9}$")


def fold(text: str) -> str:
    """Lower case without accents, as search.fold() does in SQL."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower().strip()


def words(text: str | None) -> str | None:
    """Only the words of a free text (no punctuation to trip a query); None when there is none."""
    found = " ".join(_WORDS.findall(text or ""))
    return found or None


@dataclass(frozen=True)
class Catalogue:
    names: dict[str, tuple[str, str]]  # code -> (English, French)

    @classmethod
    async def load(cls, pool: asyncpg.Pool) -> Catalogue:
        rows = await catalog.specializations(pool)
        return cls({r["code"]: (r["name_en"], r["name_fr"]) for r in rows})

    def name(self, code: str, lang: Lang) -> str:
        en, fr = self.names.get(code, (code, code))
        return fr if lang == "fr" else en

    def resolve(self, specialty: str) -> str | None:
        """A code from a code or an English/French name, accents and case aside."""
        wanted = fold(specialty)
        for code, (en, fr) in self.names.items():
            if wanted in (code, fold(en), fold(fr)):
                return code
        return None


UNKNOWN_SPECIALTY = Reason("unknown-specialty", "Unknown specialty.")
PARAMETERS_CLASH = Reason("search-parameters-clash", "Some search parameters do not fit together.")
NO_SUCH_SPECIALTY = FieldCode("unknown_specialty", "No specialty has this code or name.")
MISSING_COORDINATE = FieldCode("missing_coordinate", "lat and lon must be given together.")
RADIUS_WITHOUT_POINT = FieldCode("radius_without_point", "A radius needs lat and lon.")
NO_POINT = FieldCode("no_point", "Sorting by distance needs lat and lon.")
PAGE_TOO_DEEP = FieldCode("page_too_deep", "Results stop at {max}; narrow the search instead.")
PLACE_TWICE = FieldCode("location_and_city", "Give location, or city/postcode, not both.")


def resolve_specialty(catalogue: Catalogue, specialty: str | None) -> str | None:
    if specialty is None:
        return None
    code = catalogue.resolve(specialty)
    if code is None:
        raise InvalidInput(UNKNOWN_SPECIALTY, [NO_SUCH_SPECIALTY.at("specialty", "query")])
    return code


def doctor_query(
    params: DoctorSearchParams, catalogue: Catalogue, now: datetime | None = None
) -> DoctorQuery:
    errors = []
    has_point = params.lat is not None and params.lon is not None
    if (params.lat is None) != (params.lon is None):
        field = "lon" if params.lon is None else "lat"
        errors.append(MISSING_COORDINATE.at(field, "query"))
    if params.radius is not None and not has_point:
        errors.append(RADIUS_WITHOUT_POINT.at("radius", "query"))
    if params.sort == "distance" and not has_point:
        errors.append(NO_POINT.at("sort", "query"))
    if params.page * params.size > MAX_RESULT_WINDOW:
        errors.append(PAGE_TOO_DEEP.at("page", "query", max=MAX_RESULT_WINDOW))
    if params.location is not None and (params.city is not None or params.postcode is not None):
        errors.append(PLACE_TWICE.at("location", "query"))
    if errors:
        raise InvalidInput(PARAMETERS_CLASH, errors)
    city, postcode = params.city, params.postcode
    if params.location is not None and params.location.strip():
        place = params.location.strip()
        if _POSTCODE.match(place):
            postcode = place
        else:
            city = place
    before = None
    if params.available_within_days is not None:
        before = (now or clock.now()) + timedelta(days=params.available_within_days)
    return DoctorQuery(
        text=words(params.q),
        specialty=resolve_specialty(catalogue, params.specialty),
        city=city,
        postcode=postcode,
        lat=params.lat,
        lon=params.lon,
        radius_km=params.radius,
        min_rating=params.min_rating,
        max_fee=params.max_fee,
        visit_type=params.visit_type,
        language=params.language,
        accepts_new_patients=params.accepts_new_patients,
        available_before=before,
        sort=params.sort,
        offset=(params.page - 1) * params.size,
        limit=params.size,
    )
