"""A payment made through the real payments flow (localstripe) counts in the revenue figures
and appears, with its receipt notification, in the patient's data export."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, timedelta

import asyncpg
import httpx
import pytest

from server import clock
from server.settings import Settings
from tests.factories import make_user
from tests.server.payments.conftest import paying, paying_settings  # noqa: F401  (fixtures)
from tests.server.payments.helpers import eventually
from tests.server.payments.test_payments import becomes, held_slot, pay

pytestmark = pytest.mark.engines


async def test_a_completed_payment_shows_in_revenue_and_in_the_export(
    paying: httpx.AsyncClient,  # noqa: F811
    db: asyncpg.Connection,
    paying_settings: Settings,  # noqa: F811
) -> None:
    doctor, patient, held = await held_slot(paying, db, paying_settings)
    paid = await pay(paying, paying_settings, patient, held["id"])
    assert paid.status_code == 201, paid.text
    payment = paid.json()
    await becomes(paying, patient, held["id"], "confirmed")
    admin = await make_user(db, paying_settings, "admin")
    today = clock.now().astimezone(UTC).date()
    span = {"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))}

    revenue = await paying.get(
        "/api/v1/analytics/revenue-per-day",
        params={**span, "doctor_id": str(doctor.id)},
        headers=admin.headers,
    )

    assert revenue.status_code == 200, revenue.text
    [day] = revenue.json()["days"]  # the day it completed, whichever side of midnight
    assert (day["currency"], day["amount"]) == ("eur", 4050)
    assert revenue.json()["source"] == "payments"

    async def rolled_up() -> int | None:
        # The analytics consumer rolls the payment.completed event up (the past days read it).
        net: int | None = await db.fetchval("SELECT sum(net) FROM analytics.revenue_quarter")
        return net

    assert await eventually(rolled_up, "the revenue rollup") == 4050

    async def receipt() -> int | None:
        return (
            await db.fetchval(
                "SELECT count(*) FROM notify.messages WHERE user_id = $1 AND kind = $2",
                patient.user.id,
                "payment.completed",
            )
            or None
        )

    await eventually(receipt, "the payment receipt")
    answer = await paying.get("/api/v1/me/export", headers=patient.user.headers)

    assert answer.status_code == 200, answer.text
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    data = json.loads(archive.read("export.json"))
    [exported] = data["payments"]
    assert (exported["id"], exported["appointment_id"]) == (payment["id"], held["id"])
    assert (exported["amount"], exported["amount_refunded"]) == (4050, 0)
    assert (exported["currency"], exported["status"]) == ("eur", "completed")
    assert exported["invoice_number"] == payment["invoice_number"]
    assert exported["completed_at"]
    sent = data["notifications"]["sent"]
    assert any(m["kind"] == "payment.completed" for m in sent)
    assert payment["invoice_number"] in archive.read("summary.html").decode()
