"""Preferences, reminder settings and the dev mailbox over HTTP."""

from __future__ import annotations

import asyncpg
import httpx

from server import clock
from server.notifications.delivery import send_due_messages
from server.notifications.providers import Providers
from server.settings import Settings
from storage.notify.messages import NewMessage, queue_message
from storage.pool import open_pool
from tests.factories import make_doctor, make_patient, make_user

PREFS = "/api/v1/notifications/preferences"
REMINDERS = "/api/v1/notifications/reminder-settings"


async def test_preferences_store_phone_numbers_in_e164_and_refuse_bad_input(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    patient = await make_patient(db, settings)
    assert (await client.get(PREFS, headers=patient.user.headers)).json()["language"] == "en"
    body = {
        "language": "fr",
        "time_zone": "Europe/Paris",
        "phone": "06 12 34 56 78",
        "email": True,
        "sms": False,
        "in_app": True,
    }
    response = await client.put(PREFS, json=body, headers=patient.user.headers)
    assert response.status_code == 200, response.text
    assert response.json()["phone"] == "+33612345678"
    stored = await db.fetchval(
        "SELECT phone FROM notify.preferences WHERE user_id = $1", patient.user.id
    )
    assert stored == "+33612345678"
    refusals = [
        ({"phone": "12"}, "invalid_phone_number"),
        ({"phone": "abc"}, "invalid_phone_number"),
        ({"time_zone": "Mars/Olympus"}, "unknown_time_zone"),
        ({"language": "de"}, "literal_error"),
    ]
    for bad, code in refusals:
        response = await client.put(PREFS, json={**body, **bad}, headers=patient.user.headers)
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        [field] = bad
        assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [(field, code)]
    assert (await client.get(PREFS, headers=patient.user.headers)).json()["phone"] == (
        "+33612345678"
    )


async def test_only_a_doctor_sets_the_practice_reminders(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, patient = await make_doctor(db, settings), await make_patient(db, settings)
    response = await client.get(REMINDERS, headers=doctor.user.headers)
    assert response.json() == {"offsets_minutes": [1440, 60]}
    response = await client.put(
        REMINDERS, json={"offsets_minutes": [120, 2880, 120]}, headers=doctor.user.headers
    )
    assert response.json() == {"offsets_minutes": [2880, 120]}
    bad = await client.put(REMINDERS, json={"offsets_minutes": [1]}, headers=doctor.user.headers)
    assert bad.status_code == 422
    refused = await client.put(
        REMINDERS, json={"offsets_minutes": [60]}, headers=patient.user.headers
    )
    assert refused.status_code == 403


async def test_the_dev_mailbox_is_for_admins(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, database_url: str
) -> None:
    admin = await make_user(db, settings, "admin")
    patient = await make_patient(db, settings)
    message = NewMessage("dev:x", None, "appointment.reminder", "sms", "+33612345678", None, "Hi")
    await queue_message(db, message, clock.now())
    async with open_pool(database_url, max_size=2) as pool:
        await send_due_messages(pool, Providers(email=None, sms=None))
    page = await client.get("/api/v1/notifications/dev-mailbox?channel=sms", headers=admin.headers)
    assert page.status_code == 200
    assert [(m["recipient"], m["body"]) for m in page.json()["items"]] == [("+33612345678", "Hi")]
    denied = await client.get("/api/v1/notifications/dev-mailbox", headers=patient.user.headers)
    assert denied.status_code == 403
