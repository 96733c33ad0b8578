"""SMS confirm and cancel replies in the audit trail, fail closed like the API's changes: the
entry (the patient the number identified, `appointment.sms_<verb>`, the appointment, its status
before and after) is written in the change's transaction, once per Twilio MessageSid."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import asyncpg
import httpx
import pytest

from server.settings import Settings
from tests.factories import Doctor, Patient, make_doctor, make_patient
from tests.server.audit.helpers import accept_audit_rows, refuse_audit_rows
from tests.server.notifications.helpers import eventually
from tests.server.notifications.test_sms import (  # noqa: F401  (fixtures)
    WEBHOOK,
    _reminded,
    _reply,
    _signed,
    settings,
    twilio,
)

# Locking, authorization, audit and wording: no answer here depends on the hour (left out of
# the awkward-instant reruns, tools/dev.py).
pytestmark = pytest.mark.any_hour

PHONE = "+33612345678"
UNAVAILABLE = "could not be handled just now, so nothing was changed"


@pytest.fixture
async def reminded(
    db: asyncpg.Connection,
    settings: Settings,  # noqa: F811
) -> tuple[Doctor, Patient, uuid.UUID, str]:
    """A patient reminded by SMS at PHONE of an appointment in 3 days: (.., id, reference)."""
    doctor, patient = await make_doctor(db, settings), await make_patient(db, settings)
    await db.execute(
        "INSERT INTO notify.preferences (user_id, phone) VALUES ($1, $2)", patient.user.id, PHONE
    )
    appointment_id, reference = await _reminded(db, doctor, patient, timedelta(days=3))
    return doctor, patient, appointment_id, reference


async def _entries(db: asyncpg.Connection) -> list[dict[str, Any]]:
    rows = await db.fetch(
        """SELECT user_id, role, action, resource_type, resource_id, request_payload,
                  response_status
           FROM audit.logs ORDER BY append_id"""
    )
    return [dict(r) for r in rows]


def _entry(
    patient: Patient, verb: str, appointment_id: uuid.UUID, sid: str, old: str, new: str
) -> dict[str, Any]:
    return {
        "user_id": patient.user.id,
        "role": "patient",
        "action": f"appointment.sms_{verb}",
        "resource_type": "appointment",
        "resource_id": str(appointment_id),
        "request_payload": {"message_sid": sid, "old_status": old, "new_status": new},
        "response_status": 200,
    }


async def _state(db: asyncpg.Connection, appointment_id: uuid.UUID) -> tuple[Any, ...]:
    """(status, its appointment events, attendance notices, SMS answers recorded)"""
    return (
        await db.fetchval(
            "SELECT status FROM scheduling.appointments WHERE id = $1", appointment_id
        ),
        await db.fetchval(
            """SELECT count(*) FROM bus.outbox
               WHERE type LIKE 'appointment.%' AND data->>'appointment_id' = $1""",
            str(appointment_id),
        ),
        await db.fetchval(
            "SELECT count(*) FROM notify.messages WHERE kind = 'appointment.attendance'"
        ),
        await db.fetchval("SELECT count(*) FROM notify.sms_replies"),
    )


@pytest.mark.parametrize(
    ("body", "verb", "new", "said"),
    [
        ("A {ref}", "cancel", "cancelled", "is cancelled"),
        ("C {ref}", "confirm", "scheduled", "knows you will come"),
    ],
)
async def test_an_sms_change_has_one_entry_with_its_change_and_a_retry_adds_none(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    settings: Settings,  # noqa: F811
    reminded: tuple[Doctor, Patient, uuid.UUID, str],
    body: str,
    verb: str,
    new: str,
    said: str,
) -> None:
    _, patient, appointment_id, reference = reminded
    assert await _entries(db) == []
    sid = "SM" + uuid.uuid4().hex
    answer = await _reply(client, settings, PHONE, body.format(ref=reference), sid)
    assert said in answer
    change = _entry(patient, verb, appointment_id, sid, "scheduled", new)
    assert await _entries(db) == [change]  # the middleware wrote none of its own
    after = await _state(db, appointment_id)

    # Twilio redelivers: the same answer, no change and no second entry of the change; the
    # redelivered request is recorded as the middleware records any request that changed nothing.
    assert await _reply(client, settings, PHONE, body.format(ref=reference), sid) == answer
    assert await _state(db, appointment_id) == after
    [first, again] = await _entries(db)
    assert first == change
    assert (again["action"], again["user_id"], again["response_status"]) == (
        f"POST {WEBHOOK}",
        None,
        200,
    )


@pytest.mark.parametrize("body", ["A {ref}", "C {ref}"])
async def test_an_sms_change_whose_entry_cannot_be_written_is_not_made(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    settings: Settings,  # noqa: F811
    reminded: tuple[Doctor, Patient, uuid.UUID, str],
    body: str,
) -> None:
    _, patient, appointment_id, reference = reminded
    before = await _state(db, appointment_id)
    await refuse_audit_rows(db, "appointment.sms_%")
    sid = "SM" + uuid.uuid4().hex
    answer = await _reply(client, settings, PHONE, body.format(ref=reference), sid)
    assert UNAVAILABLE in answer
    # Still scheduled, no event, no notice to the doctor, no answer kept for the MessageSid.
    assert await _state(db, appointment_id) == before
    [refused] = await _entries(db)
    assert (refused["action"], refused["user_id"]) == (f"POST {WEBHOOK}", None)

    # Twilio's retry (or the patient's) acts once the store accepts rows again.
    await accept_audit_rows(db)
    answer = await _reply(client, settings, PHONE, body.format(ref=reference), sid)
    assert UNAVAILABLE not in answer
    [_, change] = await _entries(db)
    assert change["action"].startswith("appointment.sms_")
    assert change["request_payload"]["message_sid"] == sid


async def test_an_sms_cancel_with_no_audit_store_at_all_cancels_nothing(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    settings: Settings,  # noqa: F811
    reminded: tuple[Doctor, Patient, uuid.UUID, str],
) -> None:
    """Neither the change's entry nor the middleware's can be written: a 503 problem (Twilio
    gets no reply to send) and the appointment is not cancelled."""
    _, _, appointment_id, reference = reminded
    before = await _state(db, appointment_id)
    await refuse_audit_rows(db)
    params = {"MessageSid": "SM" + uuid.uuid4().hex, "From": PHONE, "Body": f"A {reference}"}
    response = await client.post(
        WEBHOOK, content=urlencode(params), headers=_signed(settings, params)
    )
    assert response.status_code == 503, response.text
    assert response.json()["type"] == "/problems/unavailable"
    assert await _state(db, appointment_id) == before
    assert await _entries(db) == []


@pytest.mark.parametrize(
    ("body", "status", "notices"), [("A {ref}", "cancelled", 0), ("C {ref}", "scheduled", 1)]
)
async def test_two_deliveries_of_one_message_racing_make_one_change_with_one_entry(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    database_url: str,
    settings: Settings,  # noqa: F811
    reminded: tuple[Doctor, Patient, uuid.UUID, str],
    body: str,
    status: str,
    notices: int,
) -> None:
    """Both deliveries read no answer for the MessageSid and act; the answers table is locked
    until both wait, so the second only finds the first's answer once both have acted."""
    _, _, appointment_id, reference = reminded
    sid = "SM" + uuid.uuid4().hex
    watcher = await asyncpg.connect(database_url)
    try:
        async with db.transaction():
            await db.execute("LOCK TABLE notify.sms_replies IN EXCLUSIVE MODE")
            deliveries = [
                asyncio.create_task(
                    _reply(client, settings, PHONE, body.format(ref=reference), sid)
                )
                for _ in range(2)
            ]
            await eventually(
                lambda: watcher.fetchval(
                    """SELECT count(*) FROM pg_stat_activity
                       WHERE datname = current_database() AND wait_event_type = 'Lock'"""
                ),
                lambda waiting: waiting >= 2,
            )
        first, second = await asyncio.gather(*deliveries)
    finally:
        await watcher.close()
    assert first == second
    changes = [e for e in await _entries(db) if e["action"].startswith("appointment.sms_")]
    assert len(changes) == 1
    assert await _state(db, appointment_id) == (
        status,
        1 if status == "cancelled" else 0,
        notices,
        1,
    )
