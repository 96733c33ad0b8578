"""Analytics rules: who sees which figures, the range in UTC instants, and the figures.

Figures are SQL over indexes (storage/analytics.py), not rollups: bench/analytics.py measures
each endpoint on 1 million appointments.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from server import clock
from server.admin.ports import LiveSessions
from server.analytics.errors import ANALYTICS_ROLES, OWN_FIGURES, PLATFORM_FIGURES
from server.analytics.schemas import (
    BookingsPerDay,
    Busiest,
    Connected,
    DayAmount,
    DayCount,
    LeadTime,
    Outcomes,
    RangeQuery,
    Ranked,
    RevenuePerDay,
    Scope,
)
from server.auth.principal import Principal
from server.errors import Forbidden
from server.scheduling.access import resolve_caller
from storage import analytics as store
from storage import payments as payments_store

TOP = 10


async def scope_of(pool: asyncpg.Pool, principal: Principal, query: RangeQuery) -> Scope:
    """Admins: the platform or the doctor asked for; doctors: their own; others: Forbidden."""
    today = clock.now().astimezone(query.zone).date()
    first, last = query.days(today)
    if principal.is_admin:
        doctor_id = query.doctor_id
    elif principal.role == "doctor":
        caller = await resolve_caller(pool, principal)
        if caller.doctor_id is None or query.doctor_id not in (None, caller.doctor_id):
            raise Forbidden(OWN_FIGURES)
        doctor_id = caller.doctor_id
    else:
        raise Forbidden(ANALYTICS_ROLES)
    return Scope(first_day=first, last_day=last, time_zone=query.tz, doctor_id=doctor_id)


def _bounds(scope: Scope) -> tuple[datetime, datetime]:
    """The range's days as UTC-comparable instants [first midnight, midnight after last)."""
    tz = ZoneInfo(scope.time_zone)
    start = datetime.combine(scope.first_day, time(), tz)
    end = datetime.combine(scope.last_day + timedelta(days=1), time(), tz)
    return start, end


def _every_day(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


async def bookings_per_day(pool: asyncpg.Pool, scope: Scope) -> BookingsPerDay:
    start, end = _bounds(scope)
    async with pool.acquire() as con, con.transaction(readonly=True):
        await store.custom_plans(con)
        rows = await store.bookings_per_day(con, start, end, scope.time_zone, scope.doctor_id)
    counts = {r["day"]: r["bookings"] for r in rows}
    days = [
        DayCount(day=d, count=counts.get(d, 0)) for d in _every_day(scope.first_day, scope.last_day)
    ]
    return BookingsPerDay(scope=scope, days=days)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


async def outcomes(pool: asyncpg.Pool, scope: Scope) -> Outcomes:
    start, end = _bounds(scope)
    async with pool.acquire() as con, con.transaction(readonly=True):
        await store.custom_plans(con)
        row = await store.outcomes(con, start, end, clock.now(), scope.doctor_id)
    return Outcomes(
        scope=scope,
        appointments=row["total"],
        cancelled=row["cancelled"],
        cancellation_rate=_rate(row["cancelled"], row["total"]),
        past=row["past"],
        no_show=row["no_show"],
        no_show_rate=_rate(row["no_show"], row["past"]),
    )


async def revenue_per_day(pool: asyncpg.Pool, scope: Scope) -> RevenuePerDay:
    start, end = _bounds(scope)
    async with pool.acquire() as con, con.transaction(readonly=True):
        await store.custom_plans(con)
        rows = await payments_store.revenue_per_day(
            con, start, end, scope.time_zone, scope.doctor_id
        )
    return RevenuePerDay(
        scope=scope,
        days=[DayAmount(day=r["day"], currency=r["currency"], amount=r["net"]) for r in rows],
        source="payments" if rows else "none",
    )


async def busiest(pool: asyncpg.Pool, scope: Scope) -> Busiest:
    """Platform-wide only: a doctor's own specialties and city are no ranking."""
    if scope.doctor_id is not None:
        raise Forbidden(PLATFORM_FIGURES)
    start, end = _bounds(scope)
    async with pool.acquire() as con, con.transaction(readonly=True):
        await store.custom_plans(con)
        specialties = await store.busiest_specialties(con, start, end, TOP)
        cities = await store.busiest_cities(con, start, end, TOP)
    return Busiest(
        scope=scope,
        specialties=[Ranked(key=r["code"], appointments=r["appointments"]) for r in specialties],
        cities=[Ranked(key=r["city"], appointments=r["appointments"]) for r in cities],
    )


async def lead_time(pool: asyncpg.Pool, scope: Scope) -> LeadTime:
    start, end = _bounds(scope)
    async with pool.acquire() as con, con.transaction(readonly=True):
        await store.custom_plans(con)
        row = await store.lead_time(con, start, end, scope.doctor_id)

    def hours(value: float | None) -> float | None:
        return round(value, 2) if value is not None else None

    return LeadTime(
        scope=scope,
        visits=row["visits"],
        mean_hours=hours(row["mean_hours"]),
        median_hours=hours(row["median_hours"]),
        p90_hours=hours(row["p90_hours"]),
    )


def connected(live: LiveSessions) -> Connected:
    sockets = live.connected()
    return Connected(sockets=sockets, total=sum(sockets.values()))
