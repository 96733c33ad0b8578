"""HTTP routes of doctor search: search with filters and facets, suggestions, nearby. Public:
only verified doctors are ever indexed, so nothing here needs a signed-in caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from server.deps import EnginesDep
from server.problems import problem_responses
from server.search import service
from server.search.schemas import (
    DoctorSearchPage,
    DoctorSearchParams,
    NearbyPage,
    NearbyParams,
    SuggestionList,
    SuggestionParams,
)

router = APIRouter(prefix="/api/v1/search", tags=["search"])

_INVALID: dict[int, str] = {
    422: (
        "Invalid parameter, or parameters that do not fit together (radius without lat/lon, page "
        "too deep, unknown specialty...); problem+json lists each field."
    ),
}


@router.get(
    "/doctors",
    response_model=DoctorSearchPage,
    summary="Search verified doctors",
    description="Free text (typo- and accent-tolerant) with filters, sorts, pages and facets. "
    "`available_within_days` and `next_available` follow `visit_type` when given.",
    responses=problem_responses(_INVALID),
)
async def search_doctors(
    params: Annotated[DoctorSearchParams, Query()],
    engines: EnginesDep,
) -> DoctorSearchPage:
    return await service.search_doctors(engines, params)


@router.get(
    "/suggestions",
    response_model=SuggestionList,
    summary="As-you-type suggestions: specialties, doctors, cities",
    responses=problem_responses(_INVALID),
)
async def suggestions(
    params: Annotated[SuggestionParams, Query()],
    engines: EnginesDep,
) -> SuggestionList:
    return await service.suggestions(engines, params)


@router.get(
    "/nearby",
    response_model=NearbyPage,
    summary="Verified doctors around a point, nearest first",
    responses=problem_responses(_INVALID),
)
async def nearby(
    params: Annotated[NearbyParams, Query()],
    engines: EnginesDep,
) -> NearbyPage:
    return await service.nearby_doctors(engines, params)
