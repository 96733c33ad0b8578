"""Analytics rules: who sees which figures, the range in UTC instants, and the figures.

Platform figures read the rollups for the whole UTC days (or quarter hours: bookings, revenue)
before today and the rows for the rest (server/analytics/rollups.py); a doctor's own figures
read the rows (storage/analytics.py, over that doctor's index range). bench/analytics.py
measures each endpoint on 1 million appointments.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from typing import TypeVar
from zoneinfo import ZoneInfo

import asyncpg

from server import clock
from server.admin.ports import LiveSessions
from server.analytics import rollups
from server.analytics.errors import (
    ANALYTICS_ROLES,
    OWN_FIGURES,
    PLATFORM_FIGURES,
    TO_NOT_BEFORE_FROM,
)
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
from server.errors import FIELDS_INVALID, NO_SUCH_DOCTOR, Forbidden, InvalidInput, NotFound
from server.scheduling.access import resolve_caller
from storage import analytics as store
from storage import doctors as doctors_store
from storage import payments

TOP = 10
_MICROS_PER_HOUR = 3_600_000_000
_K = TypeVar("_K")


async def scope_of(pool: asyncpg.Pool, principal: Principal, query: RangeQuery) -> Scope:
    """Admins: the platform or the doctor asked for (NotFound for an unknown one, not zeros);
    doctors: their own; others: Forbidden."""
    today = clock.now().astimezone(query.zone).date()
    first, last = query.days(today)
    if last < first:  # `from` after today and no `to` (the query model cannot know today)
        raise InvalidInput(FIELDS_INVALID, [TO_NOT_BEFORE_FROM.at("from", "query")])
    if principal.is_admin:
        doctor_id = query.doctor_id
        if doctor_id is not None:
            async with pool.acquire() as con:
                if await doctors_store.get_doctor(con, doctor_id) is None:
                    raise NotFound(NO_SUCH_DOCTOR)
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
    counts: dict[date, int] = {}
    async with pool.acquire() as con, con.transaction(readonly=True):
        await store.custom_plans(con)
        cut = _quarters(scope, start, end)
        if cut.rolled:
            rolled = await store.rolled_bookings(con, *cut.rolled, scope.time_zone)
            _add(counts, {r["day"]: r["bookings"] for r in rolled})
        for a, b in cut.live:
            rows = await store.bookings_per_day(con, a, b, scope.time_zone, scope.doctor_id)
            _add(counts, {r["day"]: r["bookings"] for r in rows})
    days = [
        DayCount(day=d, count=counts.get(d, 0)) for d in _every_day(scope.first_day, scope.last_day)
    ]
    return BookingsPerDay(scope=scope, days=days)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


async def outcomes(pool: asyncpg.Pool, scope: Scope) -> Outcomes:
    start, end = _bounds(scope)
    now = clock.now()
    total = cancelled = past = no_show = 0
    async with pool.acquire() as con, con.transaction(readonly=True):
        await store.custom_plans(con)
        cut = _days(scope, start, end)
        if cut.rolled:
            # Days before today: every visit not cancelled nor held is past.
            r = await store.rolled_outcomes(con, *cut.rolled)
            total, cancelled, no_show = r["total"], r["cancelled"], r["no_show"]
            past = r["total"] - r["cancelled"] - r["held"]
        for a, b in cut.live:
            row = await store.outcomes(con, a, b, now, scope.doctor_id)
            total, cancelled = total + row["total"], cancelled + row["cancelled"]
            past, no_show = past + row["past"], no_show + row["no_show"]
    return Outcomes(
        scope=scope,
        appointments=total,
        cancelled=cancelled,
        cancellation_rate=_rate(cancelled, total),
        past=past,
        no_show=no_show,
        no_show_rate=_rate(no_show, past),
    )


async def revenue_per_day(pool: asyncpg.Pool, scope: Scope) -> RevenuePerDay:
    """Per local day and currency, sorted: the rolled-up quarter hours and the live rest."""
    start, end = _bounds(scope)
    amounts: dict[tuple[date, str], int] = {}
    async with pool.acquire() as con, con.transaction(readonly=True):
        await store.custom_plans(con)
        cut = _quarters(scope, start, end)
        parts = (
            [await store.rolled_revenue(con, *cut.rolled, scope.time_zone)] if cut.rolled else []
        )
        parts += [
            await payments.revenue_per_day(con, a, b, scope.time_zone, scope.doctor_id)
            for a, b in cut.live
        ]
        for rows in parts:
            _add(amounts, {(r["day"], r["currency"]): r["net"] for r in rows})
    return RevenuePerDay(
        scope=scope,
        days=[DayAmount(day=d, currency=c, amount=n) for (d, c), n in sorted(amounts.items())],
        source="payments" if amounts else "none",
    )


async def busiest(pool: asyncpg.Pool, scope: Scope) -> Busiest:
    """Platform-wide only: a doctor's own specialties and city are no ranking."""
    if scope.doctor_id is not None:
        raise Forbidden(PLATFORM_FIGURES)
    start, end = _bounds(scope)
    cut = _days(scope, start, end)
    first, last = cut.rolled or (start, start)
    async with pool.acquire() as con, con.transaction(readonly=True):
        await store.custom_plans(con)
        specialties, cities = await store.busiest_rolled(
            con, first.date(), last.date(), cut.live, TOP
        )
    return Busiest(
        scope=scope,
        specialties=[Ranked(key=r["key"], appointments=r["appointments"]) for r in specialties],
        cities=[Ranked(key=r["key"], appointments=r["appointments"]) for r in cities],
    )


async def lead_time(pool: asyncpg.Pool, scope: Scope) -> LeadTime:
    start, end = _bounds(scope)

    def hours(value: float | None) -> float | None:
        return round(value, 2) if value is not None else None

    async with pool.acquire() as con, con.transaction(readonly=True):
        await store.custom_plans(con)
        if scope.doctor_id is not None:
            row = await store.lead_time(con, start, end, scope.doctor_id)
            return LeadTime(
                scope=scope,
                visits=row["visits"],
                mean_hours=hours(row["mean_hours"]),
                median_hours=hours(row["median_hours"]),
                p90_hours=hours(row["p90_hours"]),
            )
        cut = _days(scope, start, end)
        leads: dict[int, int] = {}
        parts = [await store.rolled_lead(con, *cut.rolled)] if cut.rolled else []
        parts += [await store.lead_micros(con, a, b) for a, b in cut.live]
        for rows in parts:
            _add(leads, {r["micros"]: r["visits"] for r in rows})
    distribution = sorted(leads.items())
    visits = sum(leads.values())
    total = sum(micros * n for micros, n in distribution)
    mean = float(Fraction(total, visits * _MICROS_PER_HOUR)) if visits else None
    return LeadTime(
        scope=scope,
        visits=visits,
        mean_hours=hours(mean),
        median_hours=hours(percentile_cont(distribution, 0.5)),
        p90_hours=hours(percentile_cont(distribution, 0.9)),
    )


def percentile_cont(distribution: list[tuple[int, int]], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont over the sorted (microseconds, how many) pairs, in hours:
    the value at rank fraction * (n - 1), interpolated between its neighbours, in float8 as
    PostgreSQL does it (each value the double nearest to its exact number of hours)."""
    n = sum(count for _, count in distribution)
    if n == 0:
        return None
    rank = fraction * (n - 1)
    low, high = math.floor(rank), math.ceil(rank)

    def at(position: int) -> float:
        for micros, count in distribution:
            if position < count:
                return micros / _MICROS_PER_HOUR  # correctly rounded, as numeric -> float8
            position -= count
        raise IndexError(position)

    first = at(low)
    if high == low:
        return first
    second = at(high)
    return first + (rank - low) * (second - first)


def _today() -> datetime:
    return rollups.day_of(clock.now())


def _quarters(scope: Scope, start: datetime, end: datetime) -> rollups.Split:
    """Platform figures over whole quarter hours (each bucket lies in one local day of any
    zone): the rolled-up quarter hours and the live rest; else all live."""
    if scope.doctor_id is None and rollups.on_quarter(start) and rollups.on_quarter(end):
        return rollups.split(start, end, _today(), rollups.QUARTER)
    return rollups.Split(None, [(start, end)])


def _days(scope: Scope, start: datetime, end: datetime) -> rollups.Split:
    """Platform figures: the rolled-up UTC days and the live rest; a doctor's: all live."""
    if scope.doctor_id is not None:
        return rollups.Split(None, [(start, end)])
    return rollups.split(start.astimezone(UTC), end.astimezone(UTC), _today(), rollups.DAY)


def _add(into: dict[_K, int], counts: dict[_K, int]) -> None:
    for key, count in counts.items():
        into[key] = into.get(key, 0) + count


def connected(live: LiveSessions) -> Connected:
    sockets = live.connected()
    return Connected(sockets=sockets, total=sum(sockets.values()))
