"""Search use cases: doctor search with facets, nearby doctors, typed suggestions. Each answer
is cached in Redis (when configured) under the index generation; see server/search/cache.py."""

from __future__ import annotations

import logging
from typing import TypeVar

from pydantic import BaseModel

from server.engines import Engines
from server.search.cache import SearchCache
from server.search.queries import Catalogue, doctor_query, resolve_specialty, words
from server.search.schemas import (
    DoctorResult,
    DoctorSearchPage,
    DoctorSearchParams,
    FacetOut,
    Facets,
    Lang,
    NearbyPage,
    NearbyParams,
    SpecialtyOut,
    SuggestionList,
    SuggestionOut,
    SuggestionParams,
)
from storage.search import catalog
from storage.search.base import DoctorHit, NearbyQuery

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)


def cache_for(engines: Engines) -> SearchCache:
    return SearchCache(engines.redis, engines.settings.nats_subject_prefix)


def _result(hit: DoctorHit, catalogue: Catalogue, lang: Lang) -> DoctorResult:
    return DoctorResult(
        id=hit.doctor_id,
        name=f"{hit.first_name} {hit.last_name}",
        first_name=hit.first_name,
        last_name=hit.last_name,
        photo=hit.profile_image_url,
        specializations=[
            SpecialtyOut(code=code, name=catalogue.name(code, lang)) for code in hit.specializations
        ],
        city=hit.city,
        postcode=hit.postcode,
        fee=hit.consultation_fee,
        currency=hit.currency,
        rating=hit.rating,
        total_reviews=hit.total_reviews,
        languages=hit.languages,
        accepts_new_patients=hit.accepts_new_patients,
        visit_types=hit.visit_types,
        next_available=hit.next_available,
        distance_km=hit.distance_km,
        time_zone=hit.time_zone,
    )


async def _cached(
    cache: SearchCache, kind: str, params: BaseModel, model: type[M]
) -> tuple[str | None, M | None]:
    key, body = await cache.lookup(kind, params.model_dump(mode="json"))
    return key, (model.model_validate_json(body) if body is not None else None)


async def search_doctors(engines: Engines, params: DoctorSearchParams) -> DoctorSearchPage:
    cache = cache_for(engines)
    key, hit = await _cached(cache, "doctors", params, DoctorSearchPage)
    if hit is not None:
        return hit
    catalogue = await Catalogue.load(engines)
    found = await engines.search.search(doctor_query(params, catalogue))
    page = DoctorSearchPage(
        items=[_result(h, catalogue, params.lang) for h in found.hits],
        total=found.total,
        total_exact=found.total_exact,
        page=params.page,
        size=params.size,
        facets=Facets(
            specialties=[
                FacetOut(value=f.value, label=catalogue.name(f.value, params.lang), count=f.count)
                for f in found.specialties
            ],
            cities=[FacetOut(value=f.value, label=f.value, count=f.count) for f in found.cities],
        ),
    )
    await cache.store(key, page.model_dump_json().encode())
    return page


async def nearby_doctors(engines: Engines, params: NearbyParams) -> NearbyPage:
    cache = cache_for(engines)
    key, hit = await _cached(cache, "nearby", params, NearbyPage)
    if hit is not None:
        return hit
    catalogue = await Catalogue.load(engines)
    query = NearbyQuery(
        lat=params.lat,
        lon=params.lon,
        radius_km=params.radius,
        limit=params.limit,
        specialty=resolve_specialty(catalogue, params.specialty),
    )
    hits = await engines.search.nearby(query)
    page = NearbyPage(items=[_result(h, catalogue, params.lang) for h in hits])
    await cache.store(key, page.model_dump_json().encode())
    return page


async def suggestions(engines: Engines, params: SuggestionParams) -> SuggestionList:
    text = words(params.q)
    if text is None:
        return SuggestionList(items=[])
    cache = cache_for(engines)
    key, hit = await _cached(cache, "suggest", params, SuggestionList)
    if hit is not None:
        return hit
    catalogue = await Catalogue.load(engines)
    codes, names = catalogue.folded
    specialties = await catalog.suggest_specializations(
        engines.pool, text, codes, names, params.limit
    )
    items = [
        SuggestionOut(
            type="specialty",
            label=catalogue.name(code, params.lang),
            value=code,
            labels={"en": catalogue.name(code, "en"), "fr": catalogue.name(code, "fr")},
        )
        for code in specialties
    ]
    for found in await engines.search.suggest(text, params.limit):
        doctor_id = found.value if found.type == "doctor" else None
        items.append(
            SuggestionOut(type=found.type, label=found.label, value=found.value, id=doctor_id)
        )
    answer = SuggestionList(items=items)
    await cache.store(key, answer.model_dump_json().encode())
    return answer
