"""Revenue per day from outside: bad ranges, zones and ids are 4xx problems (never a 500) on
both GET /analytics/revenue-per-day and GET /payments/revenue; the two agree through HTTP at a
DST midnight; refunds settled at once with their events handled at once by two consumers leave
the rollup equal to the payments' revenue."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest

from bus import events
from server import clock
from server.analytics import rollups
from server.analytics.schemas import Scope
from server.payments.events import emit_payment
from server.settings import Settings
from storage import payments as payments_store
from storage.pool import open_pool
from tests.factories import make_doctor, make_patient, make_user
from tests.server.analytics.test_revenue_rollup import Payments, _payments_revenue, _served
from tests.server.payments.conftest import paying, paying_settings  # noqa: F401  (fixtures)
from tests.server.payments.helpers import stripe_refunds
from tests.server.payments.test_refunds import paid_appointment
from tests.server.scheduling.helpers import events_of

pytestmark = pytest.mark.engines

ANALYTICS = "/api/v1/analytics/revenue-per-day"
PAYMENTS = "/api/v1/payments/revenue"


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-02-30"},
        {"from": "yesterday"},
        {"from": "0001-01-01", "to": "0001-01-02", "tz": "Pacific/Kiritimati"},
        {"from": "9999-12-30", "to": "9999-12-31", "tz": "Etc/GMT+12"},
        {"tz": "Mars/Olympus"},
        {"tz": "localtime"},
        {"tz": "posixrules"},
        {"tz": "Factory"},
        {"tz": "right/UTC"},
        {"tz": "../../etc/passwd"},
        {"tz": "x" * 5000},
        {"tz": "Europe/Paris\x01"},
        {"doctor_id": "not-a-uuid"},
        {"doctor_id": "00000000-0000-0000-0000-000000000000"},
        {"from": "2026-01-10", "to": "2026-01-01"},
        {"from": "2024-01-01", "to": "2026-01-01"},
        {"what": "else"},
        {"from": "2099-01-01"},  # no `to`: up to today, which is before it
    ],
)
async def test_bad_analytics_revenue_queries_are_4xx_problems(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, params: dict[str, str]
) -> None:
    admin = await make_user(db, settings, "admin")
    answer = await client.get(ANALYTICS, params=params, headers=admin.headers)
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "time_zone": "Mars/X"},
        {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "time_zone": "SystemV/AST4"},
        {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "time_zone": "Etc/GMT+13"},
        {"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
        {"from": "2026-01-01", "to": "2026-01-02"},
        {"from": "0001-01-01T00:00:00+14:00", "to": "2026-01-02T00:00:00Z"},
        {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "doctor_id": "x"},
    ],
)
async def test_bad_payments_revenue_queries_are_4xx_problems(
    paying: httpx.AsyncClient,  # noqa: F811
    db: asyncpg.Connection,
    paying_settings: Settings,  # noqa: F811
    params: dict[str, str],
) -> None:
    admin = await make_user(db, paying_settings, "admin")
    answer = await paying.get(PAYMENTS, params=params, headers=admin.headers)
    assert answer.status_code != 500, answer.text
    assert answer.json().get("code") != "payments-disabled"
    if answer.status_code != 200:
        assert 400 <= answer.status_code < 500, answer.text
        assert answer.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("zone", ["localtime", "posixrules", "Factory", "right/UTC", "posix/UTC"])
async def test_the_payments_revenue_refuses_the_zones_the_analytics_refuses(
    paying: httpx.AsyncClient,  # noqa: F811
    db: asyncpg.Connection,
    paying_settings: Settings,  # noqa: F811
    zone: str,
) -> None:
    """Files of the zoneinfo directory that are no IANA zone: "posixrules" is New York here,
    "right/UTC" is 27 s off UTC, "localtime" is the machine's. The analytics refuses them; the
    payments' revenue, which it must equal, took them (its own days, machine-dependent)."""
    admin = await make_user(db, paying_settings, "admin")
    refused = await paying.get(ANALYTICS, params={"tz": zone}, headers=admin.headers)
    assert refused.status_code == 422, refused.text
    answer = await paying.get(
        PAYMENTS,
        params={"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "time_zone": zone},
        headers=admin.headers,
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["code"] == "unknown_time_zone"


async def test_the_two_revenues_agree_through_http_around_a_dst_midnight(
    paying: httpx.AsyncClient,  # noqa: F811
    db: asyncpg.Connection,
    paying_settings: Settings,  # noqa: F811
    database_url: str,
) -> None:
    """America/Santiago springs forward at midnight (00:00 does not exist that day) and falls
    back to a 23:00 seen twice. Payments around both, read per local day by both endpoints."""
    zone = ZoneInfo("America/Santiago")
    doctor = await make_doctor(db, paying_settings, time_zone="America/Santiago")
    patient = await make_patient(db, paying_settings)
    admin = await make_user(db, paying_settings, "admin")
    payments = Payments(db)
    now = clock.now()
    # The last transition of each kind before now (within the last 13 months).
    transitions: list[datetime] = []
    at = now - timedelta(days=400)
    offset = at.astimezone(zone).utcoffset()
    while at < now - timedelta(days=2):
        step = at + timedelta(minutes=15)
        if step.astimezone(zone).utcoffset() != offset:
            transitions.append(step)
            offset = step.astimezone(zone).utcoffset()
        at = step
    assert len(transitions) >= 2
    instants: list[datetime] = []
    for moment in transitions[-2:]:
        for delta in (-61, -60, -1, 0, 1, 59, 60):
            instants.append(moment + timedelta(minutes=delta) - timedelta(microseconds=1))
            instants.append(moment + timedelta(minutes=delta))
    for n, instant in enumerate(instants):
        await payments.take(doctor, patient, instant, 1000 + n, "eur")
    async with open_pool(database_url, 2) as pool:
        await rollups.handler_for(pool)(await payments.new_events())
    first = min(instants).astimezone(zone).date() - timedelta(days=1)
    last = min(
        max(instants).astimezone(zone).date() + timedelta(days=1), now.astimezone(zone).date()
    )
    served_days: dict[str, int] = {}
    day = first
    while day <= last:
        span = min(last, day + timedelta(days=300))
        served = await paying.get(
            ANALYTICS,
            params={"from": day.isoformat(), "to": span.isoformat(), "tz": "America/Santiago"},
            headers=admin.headers,
        )
        assert served.status_code == 200, served.text
        start = datetime.combine(day, time(), zone)
        end = datetime.combine(span + timedelta(days=1), time(), zone)
        report = await paying.get(
            PAYMENTS,
            params={
                "from": start.isoformat(),
                "to": end.isoformat(),
                "time_zone": "America/Santiago",
            },
            headers=admin.headers,
        )
        assert report.status_code == 200, report.text
        assert [(d["day"], d["currency"], d["amount"]) for d in served.json()["days"]] == [
            (d["day"], d["currency"], d["net"]) for d in report.json()["days"]
        ]
        served_days.update({d["day"]: d["amount"] for d in served.json()["days"]})
        day = span + timedelta(days=1)
    # Each payment on its local day as Python's zoneinfo sees it.
    by_day: dict[str, int] = {}
    for n, instant in enumerate(instants):
        local = instant.astimezone(zone).date().isoformat()
        by_day[local] = by_day.get(local, 0) + 1000 + n
    assert served_days == by_day


async def test_refunds_settled_at_once_and_handled_by_two_consumers_at_once(
    db: asyncpg.Connection, settings: Settings, database_url: str
) -> None:
    doctor = await make_doctor(db, settings, time_zone="Asia/Kathmandu")
    patient = await make_patient(db, settings)
    payments = Payments(db)
    day = clock.now().astimezone(UTC).date() - timedelta(days=3)
    at = datetime.combine(day, time(10, 1), UTC)
    taken = [
        await payments.take(doctor, patient, at + timedelta(minutes=i), 5000, "eur")
        for i in range(6)
    ]
    async with open_pool(database_url, 8) as pool:
        handle = rollups.handler_for(pool)
        await handle(await payments.new_events())
        # Each refund reserved, then all settled at once in their own transactions.
        reserved = [(p, await payments.reserve(p, 1000 + 100 * i)) for i, p in enumerate(taken)]

        async def settle(payment_id: uuid.UUID, refund_id: uuid.UUID) -> None:
            async with pool.acquire() as con, con.transaction():
                await payments_store.settle_refund(
                    con, refund_id, f"re_{refund_id.hex}", clock.now()
                )
                row = await payments_store.fetch_payment(con, payment_id)
                assert row is not None
                await emit_payment(con, events.PAYMENT_REFUNDED, row, None)

        await asyncio.gather(*(settle(p, r) for p, r in reserved))
        fresh = await payments.new_events()
        assert len(fresh) == 6
        # Two consumers (nodes) take the events at once, one each, in opposite orders.
        await asyncio.gather(*(handle([e]) for e in fresh), *(handle([e]) for e in reversed(fresh)))
        scope = Scope(first_day=day, last_day=day, time_zone="Asia/Kathmandu", doctor_id=None)
        expected = await _payments_revenue(db, scope)
        assert expected == [(day, "eur", 6 * 5000 - sum(1000 + 100 * i for i in range(6)))]
        assert await _served(pool, scope) == expected


async def test_a_refund_stripe_made_but_not_settled_here_is_settled_by_its_retry(
    paying: httpx.AsyncClient,  # noqa: F811
    db: asyncpg.Connection,
    paying_settings: Settings,  # noqa: F811
) -> None:
    doctor, _, _, payment = await paid_appointment(paying, db, paying_settings)
    url = f"/api/v1/payments/{payment['id']}/refund"
    headers = {**doctor.user.headers, "Idempotency-Key": "refund-after-crash"}
    # The settling UPDATE fails once, after Stripe refunded: as a node dying at that moment.
    await db.execute(
        """CREATE FUNCTION pg_temp.no_settle() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN RAISE EXCEPTION 'node lost'; END $$"""
    )
    await db.execute(
        """CREATE TRIGGER no_settle BEFORE UPDATE ON payments.refunds FOR EACH ROW
           WHEN (NEW.status = 'succeeded') EXECUTE FUNCTION pg_temp.no_settle()"""
    )
    try:
        lost = await paying.post(url, json={"amount": 1000}, headers=headers)
        assert lost.status_code >= 500
    except Exception:  # the test transport raises the app's own error
        pass
    finally:
        await db.execute("DROP TRIGGER no_settle ON payments.refunds")
    retried = await paying.post(url, json={"amount": 1000}, headers=headers)
    assert retried.status_code == 200, retried.text
    assert (
        await db.fetchval(
            "SELECT status FROM payments.refunds WHERE payment_id = $1", uuid.UUID(payment["id"])
        )
        == "succeeded"
    )
    # Asked again, Stripe's refund was found: one refund there, one event here.
    [made] = await stripe_refunds(paying_settings.stripe_api_base or "", payment["transaction_id"])
    assert made["amount"] == 1000
    assert len(await events_of(db, "payment.refunded")) == 1


async def test_two_refunds_at_once_through_the_api_and_both_revenues_agree(
    paying: httpx.AsyncClient,  # noqa: F811
    db: asyncpg.Connection,
    paying_settings: Settings,  # noqa: F811
) -> None:
    """The doctor and an admin each refund 3000 of a 4050 payment at the same moment: one goes
    through, the other is a 409; both revenues then say 1050 kept."""
    doctor, _, _, payment = await paid_appointment(paying, db, paying_settings)
    admin = await make_user(db, paying_settings, "admin")
    url = f"/api/v1/payments/{payment['id']}/refund"
    answers = await asyncio.gather(
        *(
            paying.post(url, json={"amount": 3000}, headers=headers)
            for headers in (doctor.user.headers, admin.headers)
        )
    )
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    completed = await db.fetchval(
        "SELECT completed_at FROM payments.payments WHERE id = $1", uuid.UUID(payment["id"])
    )
    day = completed.astimezone(UTC).date()
    report = await paying.get(
        PAYMENTS,
        params={
            "from": datetime.combine(day, time(), UTC).isoformat(),
            "to": datetime.combine(day + timedelta(days=1), time(), UTC).isoformat(),
        },
        headers=admin.headers,
    )
    assert report.status_code == 200, report.text
    served = await paying.get(
        ANALYTICS, params={"from": day.isoformat(), "to": day.isoformat()}, headers=admin.headers
    )
    assert served.status_code == 200, served.text
    assert [(d["day"], d["net"]) for d in report.json()["days"]] == [(day.isoformat(), 1050)]
    assert [(d["day"], d["amount"]) for d in served.json()["days"]] == [(day.isoformat(), 1050)]
