"""GET /api/v1/analytics/*: one figure per endpoint (admins: platform or one doctor; doctors:
their own)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from server.admin.ports import LiveSessions, get_live_sessions
from server.analytics import service
from server.analytics.schemas import (
    BookingsPerDay,
    Busiest,
    Connected,
    LeadTime,
    Outcomes,
    RangeQuery,
    RevenuePerDay,
)
from server.auth.principal import CurrentPrincipal, Principal, require_role
from server.deps import PoolDep
from server.problems import problem_responses

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])
_admin = require_role("admin")

_P = {
    401: "Not signed in",
    403: "Not a doctor or admin, or another doctor's figures",
    404: "An admin asked for an unknown `doctor_id` (`no-such-doctor`)",
    422: "A bad range: dates, unknown zone, `to` before `from` (or `from` after today with no "
    "`to`), or more than 366 days",
}
_ANSWERS: dict[int | str, dict[str, Any]] = problem_responses(_P)
Range = Annotated[RangeQuery, Query()]


@router.get(
    "/bookings-per-day",
    response_model=BookingsPerDay,
    responses=_ANSWERS,
    summary="Appointments booked per day",
)
async def bookings_per_day(
    query: Range, principal: CurrentPrincipal, pool: PoolDep
) -> BookingsPerDay:
    scope = await service.scope_of(pool, principal, query)
    return await service.bookings_per_day(pool, scope)


@router.get(
    "/outcomes",
    response_model=Outcomes,
    responses=_ANSWERS,
    summary="Cancellation and no-show rates of the visits due in the range",
)
async def outcomes(query: Range, principal: CurrentPrincipal, pool: PoolDep) -> Outcomes:
    scope = await service.scope_of(pool, principal, query)
    return await service.outcomes(pool, scope)


@router.get(
    "/revenue-per-day",
    response_model=RevenuePerDay,
    responses=_ANSWERS,
    summary="Payments taken per day and currency, net of refunds",
)
async def revenue_per_day(
    query: Range, principal: CurrentPrincipal, pool: PoolDep
) -> RevenuePerDay:
    scope = await service.scope_of(pool, principal, query)
    return await service.revenue_per_day(pool, scope)


@router.get(
    "/busiest",
    response_model=Busiest,
    responses=_ANSWERS,
    summary="Busiest specialties and cities (admins)",
)
async def busiest(query: Range, principal: CurrentPrincipal, pool: PoolDep) -> Busiest:
    scope = await service.scope_of(pool, principal, query)
    return await service.busiest(pool, scope)


@router.get(
    "/lead-time", response_model=LeadTime, responses=_ANSWERS, summary="Hours from booking to visit"
)
async def lead_time(query: Range, principal: CurrentPrincipal, pool: PoolDep) -> LeadTime:
    scope = await service.scope_of(pool, principal, query)
    return await service.lead_time(pool, scope)


@router.get(
    "/connected",
    response_model=Connected,
    responses=problem_responses(_P, 401, 403),
    summary="Clients connected now (this node's sockets per namespace; admins)",
)
async def connected(
    _: Principal = Depends(_admin), live: LiveSessions = Depends(get_live_sessions)
) -> Connected:
    return service.connected(live)
