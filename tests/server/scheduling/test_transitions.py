"""The appointment state machine through the API: every transition allowed and refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from server import clock
from server.scheduling.state_machine import OFFERED, TRANSITIONS
from server.settings import Settings
from tests.factories import Doctor, Patient, make_patient, make_user
from tests.server.scheduling.helpers import (
    booked,
    counts,
    doctor_with_availability,
    events_of,
    local,
    move_into_past,
    move_to,
    slot_starts,
)

URL = "/api/v1/appointments"
PATHS = {"confirm": "confirm", "cancel": "cancel", "complete": "complete", "no_show": "no-show"}
EVENTS = {
    "confirm": "appointment.confirmed",
    "cancel": "appointment.cancelled",
    "complete": "appointment.completed",
    "no_show": "appointment.no_show",
}


async def _setup(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, days: int = 3
) -> tuple[Doctor, Patient, dict[str, Any]]:
    doctor = await doctor_with_availability(client, db, settings)
    patient = await make_patient(db, settings)
    appointment = await booked(client, patient, doctor, local(doctor, days, "10:00"))
    return doctor, patient, appointment


async def _act(
    client: httpx.AsyncClient, appointment: dict[str, Any], action: str, user: Any
) -> httpx.Response:
    return await client.post(f"{URL}/{appointment['id']}/{PATHS[action]}", headers=user.headers)


async def _drive(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    doctor: Doctor,
    appointment: dict[str, Any],
    status: str,
) -> None:
    """Bring a freshly scheduled appointment to `status` through the API."""
    if status in ("completed", "no-show"):
        await move_into_past(db, appointment["id"])
    action = {
        "confirmed": "confirm",
        "completed": "complete",
        "no-show": "no_show",
        "cancelled": "cancel",
    }.get(status)
    if action:
        response = await _act(client, appointment, action, doctor.user)
        assert response.status_code == 200, response.text


@pytest.mark.parametrize("status", ["scheduled", "confirmed", "completed", "cancelled", "no-show"])
async def test_each_action_is_allowed_or_refused_exactly_as_the_state_machine_says(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, status: str
) -> None:
    doctor, _, appointment = await _setup(client, db, settings)
    await _drive(client, db, doctor, appointment, status)
    await move_into_past(db, appointment["id"])  # so complete / no-show are not refused by time
    allowed = TRANSITIONS[status]
    for action in PATHS:
        if action in allowed:
            continue
        before = await counts(db)
        response = await _act(client, appointment, action, doctor.user)
        assert response.status_code == 409, (status, action)
        body = response.json()
        assert body["type"] == "/problems/transition-refused"
        assert body["current_status"] == status
        assert body["allowed_transitions"] == [a for a in allowed if a in OFFERED]
        assert await counts(db) == before
    for action in PATHS:
        if action in allowed:
            response = await _act(client, appointment, action, doctor.user)
            assert response.status_code == 200, (status, action, response.text)
            assert response.json()["status"] == allowed[action]
            [event] = await events_of(db, EVENTS[action])
            assert event["status"] == allowed[action]
            return  # one allowed action ends in another state; the other states have own runs


async def test_cancelling_releases_the_slot_and_records_who_and_why(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, patient, appointment = await _setup(client, db, settings)
    response = await client.post(
        f"{URL}/{appointment['id']}/cancel",
        json={"reason": "Feeling better"},
        headers=patient.user.headers,
    )
    assert response.status_code == 200
    assert response.json()["cancelled_by"] == "patient"
    assert response.json()["cancellation_reason"] == "Feeling better"
    [cancelled] = await events_of(db, "appointment.cancelled")
    [released] = await events_of(db, "slot.released")
    assert cancelled["reason"] == "Feeling better" and cancelled["cancelled_by"] == "patient"
    assert released["availability_version"] == cancelled["availability_version"] == 3
    start = local(doctor, 3, "10:00")
    assert start in await slot_starts(client, doctor, start, local(doctor, 3, "11:00"))


async def test_delete_cancels_like_the_cancel_action(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    _, patient, appointment = await _setup(client, db, settings)
    response = await client.delete(f"{URL}/{appointment['id']}", headers=patient.user.headers)
    assert response.status_code == 204
    again = await client.delete(f"{URL}/{appointment['id']}", headers=patient.user.headers)
    assert again.status_code == 409
    assert again.json()["allowed_transitions"] == []


async def test_patients_cancel_only_until_the_cutoff_doctors_any_time(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, patient, appointment = await _setup(client, db, settings)
    await move_to(db, appointment["id"], clock.now() + timedelta(hours=3))
    before = await counts(db)
    late = await client.post(f"{URL}/{appointment['id']}/cancel", headers=patient.user.headers)
    assert late.status_code == 409 and late.json()["type"] == "/problems/too-late"
    assert await counts(db) == before
    by_doctor = await client.post(f"{URL}/{appointment['id']}/cancel", headers=doctor.user.headers)
    assert by_doctor.status_code == 200 and by_doctor.json()["cancelled_by"] == "doctor"


async def test_completing_before_the_visit_started_is_refused(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, _, appointment = await _setup(client, db, settings)
    for action in ("complete", "no_show"):
        response = await _act(client, appointment, action, doctor.user)
        assert response.status_code == 409
        assert response.json()["type"] == "/problems/transition-refused"


async def test_patients_cannot_confirm_complete_or_mark_no_show(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    _, patient, appointment = await _setup(client, db, settings)
    await move_into_past(db, appointment["id"])
    for action in ("confirm", "complete", "no_show"):
        assert (await _act(client, appointment, action, patient.user)).status_code == 403
    admin = await make_user(db, settings, "admin")
    assert (await _act(client, appointment, "complete", admin)).status_code == 200


async def test_editing_notes_and_reason_of_an_upcoming_appointment(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, patient, appointment = await _setup(client, db, settings)
    url = f"{URL}/{appointment['id']}"
    edited = await client.put(url, json={"notes": "Bring the scans"}, headers=patient.user.headers)
    assert edited.status_code == 200 and edited.json()["notes"] == "Bring the scans"
    [event] = await events_of(db, "appointment.updated")
    assert event["status"] == "scheduled"
    assert (await client.put(url, json={}, headers=patient.user.headers)).status_code == 422
    unknown = await client.put(
        url,
        json={"reason_id": "00000000-0000-0000-0000-000000000000"},
        headers=patient.user.headers,
    )
    assert unknown.status_code == 422
    await client.post(f"{url}/cancel", headers=doctor.user.headers)
    closed = await client.put(url, json={"notes": "x"}, headers=patient.user.headers)
    assert closed.status_code == 409


async def test_allowed_transitions_say_what_this_caller_may_do_now(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, patient, appointment = await _setup(client, db, settings)
    url = f"{URL}/{appointment['id']}"

    as_patient = (await client.get(url, headers=patient.user.headers)).json()
    as_doctor = (await client.get(url, headers=doctor.user.headers)).json()
    assert as_patient["allowed_transitions"] == ["reschedule", "cancel"]
    assert as_patient["refused_transitions"] == {}
    assert as_patient["patient_cutoff_at"] is not None
    assert as_doctor["allowed_transitions"] == ["confirm", "reschedule", "cancel"]
    assert as_doctor["refused_transitions"] == {"complete": "not_started", "no_show": "not_started"}
    assert as_doctor["patient_cutoff_at"] is None

    await move_to(db, appointment["id"], clock.now() + timedelta(hours=3))  # inside the cut-off
    late = (await client.get(url, headers=patient.user.headers)).json()
    assert late["allowed_transitions"] == []
    assert late["refused_transitions"] == {"reschedule": "cutoff", "cancel": "cutoff"}
    listed = await client.get(f"{URL}/patient/{patient.id}", headers=patient.user.headers)
    assert listed.json()["items"][0]["allowed_transitions"] == []


@pytest.mark.parametrize("hours_ahead", [72, 3, -2])
@pytest.mark.parametrize("who", ["patient", "doctor"])
async def test_every_offered_action_succeeds_and_every_other_is_refused(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    settings: Settings,
    hours_ahead: int,
    who: str,
) -> None:
    doctor, patient, appointment = await _setup(client, db, settings)
    await move_to(db, appointment["id"], clock.now() + timedelta(hours=hours_ahead))
    user = patient.user if who == "patient" else doctor.user
    read = await client.get(f"{URL}/{appointment['id']}", headers=user.headers)
    offered = read.json()["allowed_transitions"]

    before = await counts(db)
    for action in PATHS:
        if action not in offered:
            refused = await _act(client, appointment, action, user)
            assert refused.status_code in (403, 409), (action, refused.text)
    assert await counts(db) == before
    for action in PATHS:
        if action in offered:
            response = await _act(client, appointment, action, user)
            assert response.status_code == 200, (action, response.text)
            break
