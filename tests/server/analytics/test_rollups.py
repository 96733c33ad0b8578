"""Rollups equal the SQL over the appointment rows after a random mix of bookings, cancellations,
reschedules, status changes and redelivered events (server/analytics/rollups.py)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest

import storage
from bus import events
from bus.events import Envelope
from bus.outbox import envelope
from server import clock
from server.analytics import rollups, service
from server.analytics.schemas import Scope
from server.scheduling.events import AppointmentChanged
from server.settings import Settings
from storage import analytics as store
from storage.pool import open_pool
from tests.factories import Doctor, make_appointment, make_doctor, make_patient

pytestmark = pytest.mark.engines

BACKFILL = Path(storage.__file__).parent / "migrations" / "0026_analytics_rollups.sql"
ZONES = ("UTC", "Europe/Paris", "Asia/Kathmandu", "America/St_Johns", "Pacific/Chatham")


async def _event(
    db: asyncpg.Connection, kind: str, appointment_id: object, previous: datetime | None = None
) -> Envelope:
    row = await db.fetchrow(
        """SELECT doctor_id, patient_id, lower(period) AS start, upper(period) AS end,
                  visit_type, status FROM scheduling.appointments WHERE id = $1""",
        appointment_id,
    )
    payload = AppointmentChanged(
        appointment_id=appointment_id,  # type: ignore[arg-type]
        **dict(row),
        previous_start=previous,
        previous_end=previous + timedelta(minutes=30) if previous else None,
        availability_version=1,
    )
    return envelope(kind, f"appointment:{appointment_id}", payload, at=clock.now())


async def _reference(db: asyncpg.Connection, scope: Scope) -> dict[str, object]:
    """The figures straight from the rows (the SQL the endpoints ran before the rollups)."""
    tz = scope.time_zone
    start = datetime.combine(scope.first_day, time(), ZoneInfo(tz))
    end = datetime.combine(scope.last_day + timedelta(days=1), time(), ZoneInfo(tz))
    per_day = {
        r["day"]: r["bookings"] for r in await store.bookings_per_day(db, start, end, tz, None)
    }
    days = [
        scope.first_day + timedelta(days=i)
        for i in range((scope.last_day - scope.first_day).days + 1)
    ]
    outcomes = await store.outcomes(db, start, end, clock.now(), None)
    lead = await store.lead_time(db, start, end, None)
    return {
        "bookings": [per_day.get(d, 0) for d in days],
        "outcomes": (
            outcomes["total"],
            outcomes["cancelled"],
            outcomes["past"],
            outcomes["no_show"],
        ),
        "specialties": [
            (r["code"], r["appointments"])
            for r in await store.busiest_specialties(db, start, end, service.TOP)
        ],
        "cities": [
            (r["city"], r["appointments"])
            for r in await store.busiest_cities(db, start, end, service.TOP)
        ],
        "lead": (
            lead["visits"],
            *(
                round(v, 2) if v is not None else None
                for v in (lead["mean_hours"], lead["median_hours"], lead["p90_hours"])
            ),
        ),
    }


async def _served(pool: asyncpg.Pool, scope: Scope) -> dict[str, object]:
    bookings = await service.bookings_per_day(pool, scope)
    outcomes = await service.outcomes(pool, scope)
    busiest = await service.busiest(pool, scope)
    lead = await service.lead_time(pool, scope)
    return {
        "bookings": [d.count for d in bookings.days],
        "outcomes": (outcomes.appointments, outcomes.cancelled, outcomes.past, outcomes.no_show),
        "specialties": [(r.key, r.appointments) for r in busiest.specialties],
        "cities": [(r.key, r.appointments) for r in busiest.cities],
        "lead": (lead.visits, lead.mean_hours, lead.median_hours, lead.p90_hours),
    }


async def test_rollups_equal_the_rows_after_random_changes_and_redeliveries(
    db: asyncpg.Connection, settings: Settings, database_url: str
) -> None:
    rng = random.Random(23)
    now = clock.now()
    cities = ["Paris", "Lyon", "", "Nice"]
    codes = ["cardiology", "dermatology", "pediatrics"]
    doctors: list[Doctor] = [
        await make_doctor(
            db, settings, city=cities[i % 4], specializations=rng.sample(codes, 1 + i % 2)
        )
        for i in range(4)
    ]
    patients = [await make_patient(db, settings) for _ in range(3)]
    # Distinct half-hour slots over 70 days back and 5 ahead: no two appointments overlap.
    base = datetime.combine(now.astimezone(UTC).date() - timedelta(days=70), time(), UTC)
    free = rng.sample(range(75 * 48), 200)
    seen: list[Envelope] = []
    async with open_pool(database_url, 2) as pool:
        handle = rollups.handler_for(pool)
        pending: list[Envelope] = []

        async def deliver(event: Envelope) -> None:
            """Events reach the consumer in batches of random sizes, some holding events
            handled before (redeliveries)."""
            seen.append(event)
            pending.append(event)
            if rng.random() < 0.3:
                batch = pending + rng.sample(
                    seen[: -len(pending)], min(rng.randrange(3), len(seen) - len(pending))
                )
                rng.shuffle(batch)
                await handle(batch)
                pending.clear()

        # Some rows exist before the rollups are built (a bulk load), the rest come by events.
        ids = []
        for n in range(120):
            doctor = rng.choice(doctors)
            start = base + timedelta(minutes=30 * free.pop())
            booked = start - timedelta(
                seconds=rng.randrange(1, 20 * 86400), microseconds=rng.randrange(10**6)
            )
            booked = min(booked, now - timedelta(seconds=1))
            status = rng.choice(
                ["scheduled", "completed", "no-show", "cancelled", "held", "confirmed"]
            )
            extra = {"hold_expires_at": now + timedelta(minutes=5)} if status == "held" else {}
            appointment = await make_appointment(
                db, doctor, rng.choice(patients), start, status=status, created_at=booked, **extra
            )
            ids.append((appointment, doctor))
            if n == 40:
                async with pool.acquire() as con:
                    await rollups.rebuild(con)
            if n > 40:
                await deliver(await _event(db, events.APPOINTMENT_CREATED, appointment))
        for appointment, _ in rng.sample(ids, 50):
            action = rng.choice(["cancel", "complete", "no-show", "reschedule"])
            if action == "reschedule":
                previous = await db.fetchval(
                    "SELECT lower(period) FROM scheduling.appointments WHERE id = $1", appointment
                )
                moved = base + timedelta(minutes=30 * free.pop())
                await db.execute(
                    """UPDATE scheduling.appointments
                       SET period = tstzrange($2::timestamptz, $2 + interval '30 minutes')
                           WHERE id = $1""",
                    appointment,
                    moved,
                )
                await deliver(
                    await _event(db, events.APPOINTMENT_RESCHEDULED, appointment, previous)
                )
            else:
                status = {"cancel": "cancelled", "complete": "completed"}.get(action, action)
                await db.execute(
                    "UPDATE scheduling.appointments SET status = $2 WHERE id = $1",
                    appointment,
                    status,
                )
                kind = {
                    "cancel": events.APPOINTMENT_CANCELLED,
                    "complete": events.APPOINTMENT_COMPLETED,
                    "no-show": events.APPOINTMENT_NO_SHOW,
                }[action]
                await deliver(await _event(db, kind, appointment))
        await handle(pending)
        # Redeliveries (any order, several times, alone or in batches) change nothing.
        for redelivered in rng.sample(seen, 30) + rng.sample(seen, 10):
            await handle([redelivered])
        await handle(rng.sample(seen, 40))
        # A doctor moves: their days count in the new city now.
        await db.execute("UPDATE doctors.doctors SET city = 'Lille' WHERE id = $1", doctors[0].id)
        await handle(
            [
                envelope(
                    events.DOCTOR_UPDATED,
                    f"doctor:{doctors[0].id}",
                    {"doctor_id": doctors[0].id},
                    at=clock.now(),
                )
            ]
        )

        today = now.astimezone(UTC).date()
        for zone in ZONES:
            local_today = now.astimezone(ZoneInfo(zone)).date()
            for first, last in (
                (today - timedelta(days=72), local_today),  # whole months: lead_monthly
                (today - timedelta(days=25), local_today),
                (today - timedelta(days=19), today - timedelta(days=3)),
                (today - timedelta(days=21), local_today + timedelta(days=6)),
            ):
                scope = Scope(first_day=first, last_day=last, time_zone=zone, doctor_id=None)
                assert await _served(pool, scope) == await _reference(db, scope), (zone, first)
        # The migration's own backfill (for databases that had appointments before it) gives
        # the same rollups as the consumer and `rebuild`.
        await db.execute(
            """TRUNCATE analytics.bookings_quarter, analytics.visits_daily,
                        analytics.visits_daily_city, analytics.visits_daily_specialty,
                        analytics.lead_daily, analytics.lead_monthly"""
        )
        migration = BACKFILL.read_text()
        await db.execute(migration[migration.index("INSERT INTO analytics.bookings_quarter") :])
        for zone in ("UTC", "Asia/Kathmandu"):
            scope = Scope(
                first_day=today - timedelta(days=72), last_day=today, time_zone=zone, doctor_id=None
            )
            assert await _served(pool, scope) == await _reference(db, scope), zone
        # The figures read the rollups: emptied, the past days are gone from them.
        await db.execute("TRUNCATE analytics.visits_daily, analytics.bookings_quarter")
        scope = Scope(
            first_day=today - timedelta(days=25), last_day=today, time_zone="UTC", doctor_id=None
        )
        assert (await service.outcomes(pool, scope)).appointments < (await _reference(db, scope))[
            "outcomes"
        ][0]  # type: ignore[index]


def test_split_keeps_the_partial_days_and_today_live() -> None:
    today = datetime(2027, 3, 28, tzinfo=UTC)
    start = datetime(2027, 3, 1, 23, 0, tzinfo=UTC)  # Paris midnight
    cut = rollups.split(start, datetime(2027, 3, 29, 22, tzinfo=UTC), today, rollups.DAY)
    assert cut.rolled == (datetime(2027, 3, 2, tzinfo=UTC), today)
    assert cut.live == [
        (start, datetime(2027, 3, 2, tzinfo=UTC)),
        (today, datetime(2027, 3, 29, 22, tzinfo=UTC)),
    ]
    inside = rollups.split(start, start + timedelta(hours=5), today, rollups.DAY)
    assert inside.rolled is None and inside.live == [(start, start + timedelta(hours=5))]
    assert rollups.on_quarter(datetime(2027, 1, 1, 18, 15, tzinfo=UTC))
    assert not rollups.on_quarter(datetime(2027, 1, 1, 18, 20, tzinfo=UTC))
    assert service.percentile_cont([], 0.5) is None
