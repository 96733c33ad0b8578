"""The owner's feed link (API) and the feed itself (GET /calendar/<secret>.ics)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from server.audit.service import AUDITED
from server.auth.principal import CurrentPrincipal
from server.calendar_feeds import service
from server.calendar_feeds.schemas import FeedCreated, FeedState
from server.deps import EnginesDep, PoolDep
from server.problems import problem_responses

router = APIRouter(prefix="/api/v1/calendar-feed", tags=["calendar"])
feed_router = APIRouter(prefix=service.FEED_PATH, include_in_schema=False)

_P = {
    401: "Not signed in",
    403: "Admins have no appointments",
    404: "No live calendar link",
}


@router.get(
    "",
    response_model=FeedState,
    summary="Whether the caller has a live calendar link",
    responses=problem_responses(_P, 401),
)
async def feed_state(principal: CurrentPrincipal, pool: PoolDep) -> FeedState:
    return await service.feed_state(pool, principal)


@router.post(
    "",
    status_code=201,
    response_model=FeedCreated,
    summary="Make a new private calendar link (the previous one stops working)",
    responses=problem_responses(_P, 401, 403),
)
async def create_feed(principal: CurrentPrincipal, pool: PoolDep) -> FeedCreated:
    return await service.create_feed(pool, principal)


@router.delete(
    "",
    status_code=204,
    summary="Revoke the private calendar link",
    responses=problem_responses(_P, 401, 404),
)
async def revoke_feed(principal: CurrentPrincipal, pool: PoolDep) -> Response:
    await service.revoke_feed(pool, principal)
    return Response(status_code=204)


@feed_router.get("/{token}.ics", responses=AUDITED)
async def feed(
    token: Annotated[str, Path(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")],
    request: Request,
    engines: EnginesDep,
) -> Response:
    body = await service.render_feed(engines, token, request)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, no-cache", "Referrer-Policy": "no-referrer"},
    )
