"""Analytics rollups: platform figures per UTC day and quarter hour, kept by the durable consumer
"analytics" from the appointment, slot and payment events, rebuilt by `markini analytics
rebuild`.

Each rollup row is recomputed whole from the appointments of its day (or quarter hour), or from
the payments completed in its quarter hour, when an event touches it, never incremented: the
row is the SQL over the rows whatever the order or the number of deliveries, so redeliveries,
late events and races cannot drift it (exactly-once effect). The
consumer takes its events in batches (bus.consumer.run_batch_consumer): a batch's days and
quarter hours are each recomputed once, in one transaction that also records the event ids in
bus.handled_events (bus.consumer.idempotent), so a redelivery is skipped anyway. Days are locked
(advisory, in order) while recomputed, and each statement runs after the lock: it reads what
every earlier transaction committed.

Reads (server/analytics/service.py) take the rollups for the whole UTC days before today, and
the rows for the rest (the range's partial first and last days, today, the future): what is
still changing is read live, so a figure equals the SQL over the rows once the consumer caught
up (milliseconds after a change). Doctors' own figures are read from the rows (one doctor's
index range is small).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from bus import events
from bus.consumer import BatchHandler, idempotent, run_batch_consumer
from bus.events import Envelope
from server import clock
from server.engines import Engines
from server.scheduling.events import APPOINTMENT_EVENTS, SLOT_EVENTS
from storage import analytics as store

CONSUMER = "analytics"
DAY = timedelta(days=1)
QUARTER = timedelta(minutes=15)
# A payment counts in its completion's quarter hour, net of its refunds: what changes it.
PAYMENT_EVENTS = frozenset({events.PAYMENT_COMPLETED, events.PAYMENT_REFUNDED})
HANDLED = (
    frozenset(APPOINTMENT_EVENTS)
    | frozenset(SLOT_EVENTS)
    | PAYMENT_EVENTS
    | {events.DOCTOR_UPDATED}
)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def day_of(instant: datetime) -> datetime:
    """The UTC midnight starting the instant's UTC day."""
    at = instant.astimezone(UTC)
    return datetime(at.year, at.month, at.day, tzinfo=UTC)


def quarter_of(instant: datetime) -> datetime:
    return _EPOCH + ((instant - _EPOCH) // QUARTER) * QUARTER


def on_quarter(instant: datetime) -> bool:
    return (instant - _EPOCH) % QUARTER == timedelta(0)


@dataclass(frozen=True)
class Split:
    """[start, end) cut into whole rolled-up units [rolled_start, rolled_end) and live pieces."""

    rolled: tuple[datetime, datetime] | None
    live: list[tuple[datetime, datetime]]


def split(start: datetime, end: datetime, today: datetime, unit: timedelta) -> Split:
    """Rolled: the whole units (UTC days or quarter hours) of [start, end) before `today` (a UTC
    midnight); live: the rest."""
    first = _EPOCH + -((_EPOCH - start) // unit) * unit  # the first unit boundary >= start
    last = min(_EPOCH + ((end - _EPOCH) // unit) * unit, today)
    if first >= last:
        return Split(None, [(start, end)])
    live = [(a, b) for a, b in ((start, first), (last, end)) if a < b]
    return Split((first, last), live)


def _runs(points: set[datetime], unit: timedelta) -> list[tuple[datetime, datetime]]:
    """The points (each the start of one `unit`) as [start, end) ranges of consecutive units."""
    runs: list[tuple[datetime, datetime]] = []
    for point in sorted(points):
        if runs and runs[-1][1] == point:
            runs[-1] = (runs[-1][0], point + unit)
        else:
            runs.append((point, point + unit))
    return runs


async def refresh_for(
    con: asyncpg.Connection,
    starts: list[datetime],
    booked: list[datetime],
    paid: list[datetime],
) -> None:
    """Recompute, once each, the visit days of `starts`, the booking quarter hours of `booked`
    and the revenue quarter hours of `paid` (consecutive ones in one statement)."""
    days = {day_of(s) for s in starts}
    buckets = {quarter_of(b) for b in booked}
    revenue = {quarter_of(p) for p in paid}
    await store.lock_days(con, [*days, *(day_of(b) for b in buckets | revenue)])
    for first, last in _runs(days, DAY):
        await store.refresh_visits(con, first, last)
    for first, last in _runs(buckets, QUARTER):
        await store.refresh_bookings(con, first, last)
    for first, last in _runs(revenue, QUARTER):
        await store.refresh_revenue(con, first, last)


async def apply_events(con: asyncpg.Connection, envelopes: list[Envelope]) -> None:
    """Recompute what a batch of events touched: the union of its days and buckets, once."""
    starts: list[datetime] = []
    appointment_ids: list[uuid.UUID] = []
    payment_ids: list[uuid.UUID] = []
    for envelope in envelopes:
        data = envelope.data
        if envelope.type in PAYMENT_EVENTS:
            # Its completion instant is the row's (the payload has none): read below.
            payment_ids.append(uuid.UUID(str(data["payment_id"])))
            continue
        if envelope.type == events.DOCTOR_UPDATED:
            # The doctor's city or specialties may have changed: their days count elsewhere now.
            doctor_id = uuid.UUID(str(data["doctor_id"]))
            starts += await store.doctor_visit_days(con, doctor_id)
            continue
        appointment_ids.append(uuid.UUID(str(data["appointment_id"])))
        starts.append(datetime.fromisoformat(str(data["start"])))
        if data.get("previous_start"):
            starts.append(datetime.fromisoformat(str(data["previous_start"])))
    rows = await store.appointment_instants(con, appointment_ids) if appointment_ids else []
    starts += [row["start"] for row in rows]
    paid = await store.payment_completions(con, payment_ids) if payment_ids else []
    await refresh_for(con, starts, [row["created_at"] for row in rows], paid)


def handler_for(pool: asyncpg.Pool) -> BatchHandler:
    return idempotent(pool, CONSUMER, apply_events, clock.now)


async def run_analytics_consumer(engines: Engines) -> None:
    await run_batch_consumer(engines.bus, CONSUMER, handler_for(engines.pool), HANDLED)


async def rebuild(con: asyncpg.Connection) -> int:
    """Recompute every rollup from the appointments and payments, in one transaction (refreshes
    wait); returns how many UTC days it covers."""
    async with con.transaction():
        await store.lock_all(con)
        span = await store.extent(con)
        if span["first"] is None:
            first = last = day_of(clock.now())
        else:
            first, last = day_of(span["first"]), day_of(span["last"]) + DAY
        await con.execute(
            """TRUNCATE analytics.bookings_quarter, analytics.visits_daily,
                        analytics.visits_daily_city, analytics.visits_daily_specialty,
                        analytics.lead_daily, analytics.lead_monthly,
                        analytics.revenue_quarter"""
        )
        await store.refresh_visits(con, first, last)
        await store.refresh_bookings(con, first, last)
        await store.refresh_revenue(con, first, last)
    return (last - first) // DAY
