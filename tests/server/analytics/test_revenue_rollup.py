"""Revenue per day from its rollup (analytics.revenue_quarter) equals the payments' own revenue
(storage/payments.py revenue_per_day, what GET /api/v1/payments/revenue answers) after payments,
partial and full refunds, refunds refused by Stripe, and events redelivered, late and out of
order; and a payment at a day boundary of the doctor's zone counts on its local day."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest

import storage
from bus import events
from bus.consumer import BatchHandler
from bus.events import Envelope
from server import clock
from server.analytics import rollups, service
from server.analytics.schemas import Scope
from server.payments.events import emit_payment
from server.settings import Settings
from storage import payments as payments_store
from storage.pool import open_pool
from tests.factories import Doctor, Patient, make_appointment, make_doctor, make_patient, make_user

pytestmark = pytest.mark.engines

BACKFILL = Path(storage.__file__).parent / "migrations" / "0034_analytics_revenue.sql"
ZONES = ("UTC", "Asia/Kathmandu", "America/St_Johns", "Pacific/Chatham")


class Payments:
    """Payments changed through the payments domain's own queries, each change with its event
    in the same transaction, as the payments service makes them."""

    def __init__(self, db: asyncpg.Connection) -> None:
        self.db = db
        self.seq = 0
        self.visits = 0

    async def take(
        self, doctor: Doctor, patient: Patient, at: datetime, amount: int, currency: str
    ) -> uuid.UUID:
        """A payment of a fresh appointment (each in a half hour of its own), completed `at`."""
        self.visits += 1
        visit = clock.now() + timedelta(days=30, minutes=30 * self.visits)
        appointment = await make_appointment(self.db, doctor, patient, visit)
        payment_id = uuid.uuid4()
        async with self.db.transaction():
            await payments_store.insert_payment(
                self.db,
                payments_store.NewPayment(
                    payment_id,
                    appointment,
                    patient.id,
                    doctor.id,
                    amount,
                    currency,
                    48,
                    50,
                    "en",
                    at,
                ),
            )
            await payments_store.complete_payment(self.db, payment_id, "card", at)
            await self._emit(events.PAYMENT_COMPLETED, payment_id)
        return payment_id

    async def refund(self, payment_id: uuid.UUID, amount: int, refused: bool = False) -> None:
        """Reserve a refund, then settle it (with its event) or give it back (no event)."""
        refund_id = await self.reserve(payment_id, amount)
        await self.answer(payment_id, refund_id, refused)

    async def reserve(self, payment_id: uuid.UUID, amount: int) -> uuid.UUID:
        refund_id = uuid.uuid4()
        async with self.db.transaction():
            await payments_store.reserve_refund(
                self.db, refund_id, payment_id, amount, "test", str(refund_id), None, clock.now()
            )
        return refund_id

    async def answer(self, payment_id: uuid.UUID, refund_id: uuid.UUID, refused: bool) -> None:
        """Stripe's answer: refused (given back, no event) or refunded."""
        async with self.db.transaction():
            if refused:
                await payments_store.drop_refund(self.db, refund_id, clock.now())
                return
            await payments_store.settle_refund(
                self.db, refund_id, f"re_{refund_id.hex}", clock.now()
            )
            await self._emit(events.PAYMENT_REFUNDED, payment_id)

    async def left(self, payment_id: uuid.UUID) -> int:
        row = await payments_store.fetch_payment(self.db, payment_id)
        assert row is not None
        return int(row["amount"] - row["amount_refunded"])

    async def _emit(self, event_type: str, payment_id: uuid.UUID) -> None:
        row = await payments_store.fetch_payment(self.db, payment_id)
        assert row is not None
        await emit_payment(self.db, event_type, row, None)

    async def new_events(self) -> list[Envelope]:
        """The events written since the last call, from the outbox."""
        rows = await self.db.fetch(
            """SELECT seq, id, type, occurred_at, actor, subject, data, version FROM bus.outbox
               WHERE seq > $1 ORDER BY seq""",
            self.seq,
        )
        if rows:
            self.seq = rows[-1]["seq"]
        return [
            Envelope.model_validate({k: v for k, v in r.items() if k != "seq"})
            for r in rows
            if r["type"] in rollups.PAYMENT_EVENTS
        ]


def _bounds(scope: Scope) -> tuple[datetime, datetime]:
    tz = ZoneInfo(scope.time_zone)
    return (
        datetime.combine(scope.first_day, time(), tz),
        datetime.combine(scope.last_day + timedelta(days=1), time(), tz),
    )


async def _payments_revenue(db: asyncpg.Connection, scope: Scope) -> list[tuple[Any, ...]]:
    rows = await payments_store.revenue_per_day(
        db, *_bounds(scope), scope.time_zone, scope.doctor_id
    )
    return [(r["day"], r["currency"], r["net"]) for r in rows]


async def _served(pool: asyncpg.Pool, scope: Scope) -> list[tuple[Any, ...]]:
    answer = await service.revenue_per_day(pool, scope)
    return [(d.day, d.currency, d.amount) for d in answer.days]


async def test_revenue_rollup_equals_the_payments_revenue_after_refunds_and_redeliveries(
    db: asyncpg.Connection, settings: Settings, database_url: str
) -> None:
    rng = random.Random(34)
    now = clock.now()
    doctors = [
        await make_doctor(db, settings, time_zone=zone)
        for zone in ("Asia/Kathmandu", "Pacific/Chatham")
    ]
    patient = await make_patient(db, settings)
    payments = Payments(db)
    today = now.astimezone(UTC).date()
    first = datetime.combine(today - timedelta(days=40), time(), UTC)
    async with open_pool(database_url, 2) as pool:
        handle: BatchHandler = rollups.handler_for(pool)
        seen: list[Envelope] = []
        late: list[Envelope] = []

        async def deliver() -> None:
            """The new events reach the consumer in a shuffled batch with some redelivered
            ones; some are held back and come after later ones."""
            fresh = await payments.new_events()
            seen.extend(fresh)
            batch = [e for e in fresh if rng.random() > 0.2]
            late.extend(e for e in fresh if e not in batch)
            if rng.random() < 0.4:
                batch += late
                late.clear()
            batch += rng.sample(seen, min(2, len(seen)))
            rng.shuffle(batch)
            await handle(batch)

        taken: list[uuid.UUID] = []
        for n in range(60):
            # Anywhere from 40 days ago to now, some on the quarter hour and on local midnights.
            at = first + timedelta(seconds=rng.randrange(int((now - first).total_seconds())))
            if n % 5 == 0:
                zone = ZoneInfo(rng.choice(doctors).time_zone)
                at = datetime.combine(at.astimezone(zone).date(), time(), zone) - timedelta(
                    microseconds=rng.choice([0, 1])
                )
            taken.append(
                await payments.take(
                    rng.choice(doctors),
                    patient,
                    min(at, now),
                    rng.choice([2500, 3000, 5000]),
                    rng.choice(["eur", "eur", "chf"]),
                )
            )
            if n == 20:
                # Payments before the rollups existed: rebuilt once, as after a restore.
                await payments.new_events()
                async with pool.acquire() as con:
                    await rollups.rebuild(con)
            elif n > 20 and rng.random() < 0.5:
                await deliver()
            if rng.random() < 0.5:
                payment_id = rng.choice(taken)
                left = await payments.left(payment_id)
                if left:
                    part = rng.choice([left, rng.randrange(1, left + 1)])
                    await payments.refund(payment_id, part, refused=rng.random() < 0.25)
                    if rng.random() < 0.5:
                        await deliver()
        await deliver()
        await handle(late + rng.sample(seen, 10))
        for again in rng.sample(seen, 15):
            await handle([again])

        for zone in ZONES:
            local_today = now.astimezone(ZoneInfo(zone)).date()
            for first_day, last_day, doctor_id in (
                (today - timedelta(days=41), local_today, None),
                (today - timedelta(days=17), today - timedelta(days=2), None),
                (today - timedelta(days=30), local_today + timedelta(days=1), doctors[0].id),
            ):
                scope = Scope(
                    first_day=first_day, last_day=last_day, time_zone=zone, doctor_id=doctor_id
                )
                expected = await _payments_revenue(db, scope)
                assert expected, scope
                assert await _served(pool, scope) == expected, (zone, first_day)

        # The migration's own backfill gives the same rollup as the consumer.
        await db.execute("TRUNCATE analytics.revenue_quarter")
        migration = BACKFILL.read_text()
        await db.execute(migration[migration.index("INSERT INTO analytics.revenue_quarter") :])
        scope = Scope(
            first_day=today - timedelta(days=41),
            last_day=today,
            time_zone="Pacific/Chatham",
            doctor_id=None,
        )
        assert await _served(pool, scope) == await _payments_revenue(db, scope)
        # The past days are read from the rollup: emptied, they are gone from the figures.
        await db.execute("TRUNCATE analytics.revenue_quarter")
        past = Scope(
            first_day=today - timedelta(days=30),
            last_day=today - timedelta(days=2),
            time_zone="UTC",
            doctor_id=None,
        )
        assert await _payments_revenue(db, past)
        assert await _served(pool, past) == []


async def test_revenue_at_midnight_in_the_doctors_zone_counts_on_its_local_day(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, database_url: str
) -> None:
    zone = ZoneInfo("Asia/Kathmandu")  # UTC+05:45: its midnight is no UTC quarter of a day
    doctor = await make_doctor(db, settings, time_zone="Asia/Kathmandu")
    patient = await make_patient(db, settings)
    admin = await make_user(db, settings, "admin")
    day = clock.now().astimezone(zone).date() - timedelta(days=5)
    midnight = datetime.combine(day + timedelta(days=1), time(), zone)
    payments = Payments(db)
    before = await payments.take(doctor, patient, midnight - timedelta(microseconds=1), 3000, "eur")
    await payments.take(doctor, patient, midnight, 5000, "eur")
    await payments.refund(before, 1000)
    # A second refund still at Stripe while the consumer recomputes the day, then refused: it
    # never counted (the payments' revenue subtracts it only while reserved).
    in_flight = await payments.reserve(before, 500)
    async with open_pool(database_url, 2) as pool:
        await rollups.handler_for(pool)(list(reversed(await payments.new_events())))
    await payments.answer(before, in_flight, refused=True)

    async def revenue(**params: str) -> list[tuple[str, str, int]]:
        query = {"from": day.isoformat(), "to": (day + timedelta(days=1)).isoformat(), **params}
        answer = await client.get(
            "/api/v1/analytics/revenue-per-day", params=query, headers=admin.headers
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["source"] == "payments"
        return [(d["day"], d["currency"], d["amount"]) for d in answer.json()["days"]]

    local = [(day.isoformat(), "eur", 2000), ((day + timedelta(days=1)).isoformat(), "eur", 5000)]
    assert await revenue(tz="Asia/Kathmandu") == local
    assert await revenue(tz="Asia/Kathmandu", doctor_id=str(doctor.id)) == local
    # In UTC both fall on the same day (18:14:59.999999 and 18:15).
    utc_day = midnight.astimezone(UTC).date()
    assert utc_day == day
    assert await revenue(tz="UTC") == [(day.isoformat(), "eur", 7000)]
    # The figures came from the rollup: the payments' own revenue says the same.
    scope = Scope(
        first_day=day, last_day=day + timedelta(days=1), time_zone="Asia/Kathmandu", doctor_id=None
    )
    assert [(d.isoformat(), c, n) for d, c, n in await _payments_revenue(db, scope)] == local
    rolled = await db.fetch("SELECT bucket, net FROM analytics.revenue_quarter ORDER BY bucket")
    assert [(r["bucket"], r["net"]) for r in rolled] == [
        (midnight - timedelta(minutes=15), 2000),
        (midnight, 5000),
    ]
