"""SMS replies from outside: a reply from the number of a proxy who no longer looks after the
patient acts on nothing; text PostgreSQL cannot store in the reason is no 500; two identical
replies with different MessageSids at once cancel once, with one entry."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from server.settings import Settings
from tests.factories import Doctor, Patient, make_doctor, make_patient
from tests.server.notifications.test_sms import (  # noqa: F401  (fixtures)
    WEBHOOK,
    _reminded,
    _reply,
    settings,
    twilio,
)
from tests.server.notifications.test_sms_audit import PHONE, reminded  # noqa: F401
from tests.server.patients.test_relatives import URL as RELATIVES
from tests.server.patients.test_relatives import child
from tests.server.patients.test_relatives import link as link_proxy

# Locking, authorization, audit and wording: no answer here depends on the hour (left out of
# the awkward-instant reruns, tools/dev.py).
pytestmark = pytest.mark.any_hour

OTHER_PHONE = "+33698765432"


async def _changes(db: asyncpg.Connection) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await db.fetch(
        """SELECT user_id, action, resource_id FROM audit.logs
           WHERE action LIKE 'appointment.sms_%' ORDER BY append_id"""
    )
    return rows


async def _status(db: asyncpg.Connection, appointment_id: uuid.UUID) -> str:
    status: str = await db.fetchval(
        "SELECT status FROM scheduling.appointments WHERE id = $1", appointment_id
    )
    return status


async def test_a_revoked_proxy_cannot_cancel_by_answering_an_old_reminder(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    settings: Settings,  # noqa: F811
) -> None:
    """The reminder went to the parent (then the child's only proxy); the other parent joins,
    the parent stops managing the child. The parent's "A <ref>" must not cancel the
    child's visit, and above all not in the other parent's name."""
    doctor = await make_doctor(db, settings)
    parent, other_parent = await make_patient(db, settings), await make_patient(db, settings)
    for who, phone in ((parent, PHONE), (other_parent, OTHER_PHONE)):
        await db.execute(
            "INSERT INTO notify.preferences (user_id, phone) VALUES ($1, $2)", who.user.id, phone
        )
    added = await client.post(RELATIVES, json=child(), headers=parent.user.headers)
    assert added.status_code == 201, added.text
    lea = Patient(parent.user, added.json()["id"])
    appointment_id, reference = await _reminded(db, doctor, lea, timedelta(days=3))
    assert (
        await db.fetchval(
            "SELECT recipient FROM notify.messages WHERE appointment_id = $1 AND channel = 'sms'",
            appointment_id,
        )
        == PHONE
    )
    # The other parent starts managing the child after that reminder went out.
    await link_proxy(db, other_parent, lea.id, relationship="DAU", later=timedelta(seconds=1))
    gone = await client.delete(f"{RELATIVES}/{lea.id}", headers=parent.user.headers)
    assert gone.status_code == 204, gone.text

    for body in (f"A {reference}", f"C {reference}"):
        answer = await _reply(client, settings, PHONE, body)
        assert "is cancelled" not in answer and "knows you will come" not in answer, answer
    assert await _status(db, appointment_id) == "scheduled"
    assert await _changes(db) == []
    assert not await db.fetchval(
        "SELECT count(*) FROM notify.messages WHERE kind = 'appointment.attendance'"
    )


@pytest.mark.parametrize("reason", ["fe\x00ver", "fever\x00"])
async def test_a_cancel_reason_with_a_nul_is_no_500(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    settings: Settings,  # noqa: F811
    reminded: tuple[Doctor, Patient, uuid.UUID, str],  # noqa: F811
    reason: str,
) -> None:
    """A texted NUL (UCS-2 SMS can carry one) reaches the reason: the answer is still an SMS,
    and the appointment either is cancelled with a storable reason or is not cancelled."""
    _, _, appointment_id, reference = reminded
    answer = await _reply(client, settings, PHONE, f"A {reference} {reason}")
    status = await _status(db, appointment_id)
    if status == "cancelled":
        stored = await db.fetchval(
            "SELECT cancellation_reason FROM scheduling.appointments WHERE id = $1",
            appointment_id,
        )
        assert "\x00" not in stored
        assert "is cancelled" in answer
    else:
        assert status == "scheduled"


async def test_two_cancels_with_different_sids_at_once_cancel_once(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    settings: Settings,  # noqa: F811
    reminded: tuple[Doctor, Patient, uuid.UUID, str],  # noqa: F811
) -> None:
    """The patient sends "A <ref>" twice (two messages): one cancellation, one entry, one
    event; the second is told it could not be done."""
    _, patient, appointment_id, reference = reminded
    answers = await asyncio.gather(
        *(_reply(client, settings, PHONE, f"A {reference}") for _ in range(2))
    )
    assert sorted("is cancelled" in a for a in answers) == [False, True], answers
    changes: list[Any] = await _changes(db)
    assert [(c["user_id"], c["resource_id"]) for c in changes] == [
        (patient.user.id, str(appointment_id))
    ]
    assert (
        await db.fetchval(
            """SELECT count(*) FROM bus.outbox
               WHERE type = 'appointment.cancelled' AND data->>'appointment_id' = $1""",
            str(appointment_id),
        )
        == 1
    )
