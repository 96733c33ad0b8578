"""Turn validated API parameters into backend queries: the rules that span several fields, and
specialty codes or names resolved against the catalogue."""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from server import clock
from server.engines import Engines
from server.errors import FieldCode, InvalidInput, Reason
from server.search.schemas import MAX_RESULT_WINDOW, DoctorSearchParams, Lang
from storage.search import catalog
from storage.search.base import DoctorQuery, SearchBackend
from storage.search.folding import fold

_POSTCODE = re.compile(r"^\d[0-9A-Za-z -]{0,9}$")


def words(text: str | None) -> str | None:
    """A free text folded as the index is (no punctuation to trip a query); None when it has
    no word."""
    return fold(text or "") or None


# Specialties change only by migration, before the engines open: read once per app (keyed by
# its search backend, which lives exactly as long as the app's engines).
_CATALOGUES: weakref.WeakKeyDictionary[SearchBackend, Catalogue] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Catalogue:
    names: dict[str, tuple[str, str]]  # code -> (English, French), by English name

    @classmethod
    async def load(cls, engines: Engines) -> Catalogue:
        """The catalogue, read from PostgreSQL on the app's first call only."""
        if (cached := _CATALOGUES.get(engines.search)) is not None:
            return cached
        rows = sorted(await catalog.specializations(engines.pool), key=lambda r: r["name_en"])
        catalogue = cls({r["code"]: (r["name_en"], r["name_fr"]) for r in rows})
        _CATALOGUES[engines.search] = catalogue
        return catalogue

    @cached_property
    def folded(self) -> tuple[list[str], list[str]]:
        """(codes, folded "code English French" of each), in English name order."""
        codes = list(self.names)
        return codes, [fold(" ".join((c, *self.names[c]))) for c in codes]

    def name(self, code: str, lang: Lang) -> str:
        en, fr = self.names.get(code, (code, code))
        return fr if lang == "fr" else en

    @cached_property
    def _codes(self) -> dict[str, str]:
        """Folded code, English and French name -> code; the first in order wins, as in a scan."""
        found: dict[str, str] = {}
        for code, (en, fr) in reversed(self.names.items()):
            found |= dict.fromkeys((fold(code), fold(en), fold(fr)), code)
        return found

    def resolve(self, specialty: str) -> str | None:
        """A code from a code or an English/French name, accents and case aside."""
        return self._codes.get(fold(specialty))


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
        city=words(city),
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
