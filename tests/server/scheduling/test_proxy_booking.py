"""Proxy booking (issue #24): a parent books, moves and cancels for a child; the appointment's
patient is the child, the doctor sees who booked, strangers cannot act, each action is audited."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx

from server.scheduling import service
from server.settings import Settings
from storage.notify.parties import appointment_context
from tests.factories import Patient, make_patient
from tests.server.patients.test_relatives import add
from tests.server.scheduling.helpers import book, doctor_with_availability, local

AUDIT = """SELECT user_id, resource_id, request_payload FROM audit.logs
           WHERE action = $1 ORDER BY seq"""


async def _for_child(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> tuple[Any, Patient, dict[str, Any]]:
    doctor = await doctor_with_availability(client, db, settings)
    parent = await make_patient(db, settings, first_name="Claire", last_name="Martin")
    lea = await add(client, parent)
    return doctor, parent, lea


async def test_a_parent_books_for_a_child_and_the_doctor_sees_who_booked(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, pool: asyncpg.Pool
) -> None:
    doctor, parent, lea = await _for_child(client, db, settings)
    start = local(doctor, 2, "10:00")
    answer = await book(client, parent, doctor, start, patient_id=lea["id"])
    assert answer.status_code == 201, answer.text
    booked = answer.json()
    assert booked["patient_id"] == lea["id"]
    expected = {"id": str(parent.user.id), "name": "Claire Martin", "relationship": "CHILD"}
    assert booked["booked_by"] == expected
    created_by = await db.fetchval(
        "SELECT created_by FROM scheduling.appointments WHERE id = $1::uuid", booked["id"]
    )
    assert created_by == parent.user.id
    agenda = await client.get(
        f"/api/v1/appointments/doctor/{doctor.id}", headers=doctor.user.headers
    )
    [item] = agenda.json()["items"]
    assert item["booked_by"] == expected and item["patient"]["first_name"] == "Léa"
    one = await client.get(f"/api/v1/appointments/{booked['id']}", headers=doctor.user.headers)
    assert one.json()["booked_by"] == expected
    # The parent lists the child's appointments; reminders and the video room reach them.
    mine = await client.get(
        f"/api/v1/appointments/patient/{lea['id']}", headers=parent.user.headers
    )
    assert [a["id"] for a in mine.json()["items"]] == [booked["id"]]
    parties = await service.appointment_parties(pool, uuid.UUID(booked["id"]))
    assert parties is not None and parties.acting_user_ids == (parent.user.id,)
    told = await appointment_context(db, uuid.UUID(booked["id"]))
    assert told is not None and [p.user_id for p in told.acting] == [parent.user.id]
    assert told.patient_name == "Léa Martin"  # reminders go to the parent's address
    [audit] = await db.fetch(AUDIT, "relative_appointment.book")
    assert audit["user_id"] == parent.user.id and audit["resource_id"] == lea["id"]
    assert audit["request_payload"]["appointment_id"] == booked["id"]


async def test_self_booking_has_no_booked_by(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, parent, _ = await _for_child(client, db, settings)
    answer = await book(client, parent, doctor, local(doctor, 2, "11:00"))
    assert answer.status_code == 201 and answer.json()["booked_by"] is None
    agenda = await client.get(
        f"/api/v1/appointments/doctor/{doctor.id}", headers=doctor.user.headers
    )
    assert agenda.json()["items"][0]["booked_by"] is None


async def test_another_user_cannot_book_move_or_cancel_for_my_child(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, parent, lea = await _for_child(client, db, settings)
    stranger = await make_patient(db, settings)
    refused = await book(client, stranger, doctor, local(doctor, 2, "10:00"), patient_id=lea["id"])
    assert refused.status_code == 403 and refused.json()["code"] == "book-for-self"
    booked = await book(client, parent, doctor, local(doctor, 2, "10:00"), patient_id=lea["id"])
    appointment = booked.json()["id"]
    base = f"/api/v1/appointments/{appointment}"
    move = {"start": local(doctor, 3, "10:00").isoformat()}
    for method, path, body in [
        ("GET", base, None),
        ("POST", f"{base}/cancel", None),
        ("POST", f"{base}/reschedule", move),
        ("GET", f"/api/v1/appointments/patient/{lea['id']}", None),
    ]:
        answer = await client.request(method, path, json=body, headers=stranger.user.headers)
        assert answer.status_code in (403, 404), (method, path, answer.text)
    status = await db.fetchval(
        "SELECT status FROM scheduling.appointments WHERE id = $1::uuid", appointment
    )
    assert status == "scheduled"


async def test_the_parent_moves_and_cancels_for_the_child_audited(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, parent, lea = await _for_child(client, db, settings)
    booked = await book(client, parent, doctor, local(doctor, 2, "10:00"), patient_id=lea["id"])
    base = f"/api/v1/appointments/{booked.json()['id']}"
    moved = await client.post(
        f"{base}/reschedule",
        json={"start": local(doctor, 3, "10:00").isoformat()},
        headers=parent.user.headers,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["booked_by"]["relationship"] == "CHILD"
    cancelled = await client.post(f"{base}/cancel", headers=parent.user.headers)
    assert cancelled.status_code == 200 and cancelled.json()["cancelled_by"] == "patient"
    for verb in ("reschedule", "cancel"):
        [row] = await db.fetch(AUDIT, f"relative_appointment.{verb}")
        assert row["user_id"] == parent.user.id and row["resource_id"] == lea["id"]
