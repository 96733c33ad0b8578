"""Booking a slot: the happy path, the 200-way race, and every refusal leaving nothing behind."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from server.scheduling import booking
from server.settings import Settings
from tests.factories import Patient, make_doctor, make_patient, make_user
from tests.server.scheduling.helpers import (
    availability,
    book,
    booked,
    counts,
    doctor_with_availability,
    events_of,
    local,
    put_availability,
    slot_starts,
)


async def test_booking_a_free_slot_schedules_it_and_emits_events(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    patient = await make_patient(db, settings)
    start = local(doctor, 2, "10:00")

    appointment = await booked(client, patient, doctor, start, notes="Chest pain when running")

    assert appointment["status"] == "scheduled"
    assert appointment["start"] == start.isoformat()
    assert appointment["location"] == "Cabinet"
    assert appointment["fee"] == 3000 and appointment["currency"] == "EUR"
    assert appointment["notes"] == "Chest pain when running"
    assert "cancel" in appointment["allowed_transitions"]
    stored_notes = await db.fetchval("SELECT notes FROM scheduling.appointments")
    assert "Chest pain" not in str(stored_notes)  # encrypted at rest
    [created] = await events_of(db, "appointment.created")
    [slot] = await events_of(db, "slot.booked")
    assert created["subject"] == f"appointment:{appointment['id']}"
    assert slot["subject"] == f"doctor:{doctor.id}"
    assert created["availability_version"] == slot["availability_version"] == 2
    assert created["previous_start"] is None and created["cancelled_by"] is None
    free = await slot_starts(client, doctor, local(doctor, 2, "09:00"), local(doctor, 2, "12:00"))
    assert start not in free and local(doctor, 2, "10:30") in free


async def test_two_hundred_patients_racing_for_one_slot_only_one_wins(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    patients = [await make_patient(db, settings) for _ in range(200)]
    start = local(doctor, 3, "11:00")

    responses = await asyncio.gather(*(book(client, p, doctor, start) for p in patients))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 199
    losers = [r.json() for r in responses if r.status_code == 409]
    assert all(body["type"] == "/problems/slot-taken" for body in losers)
    assert all(len(body["alternatives"]) == 5 for body in losers)
    assert await db.fetchval("SELECT count(*) FROM scheduling.appointments") == 1
    assert len(await events_of(db, "slot.booked")) == 1


async def test_a_taken_slot_is_refused_with_the_nearest_free_alternatives(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    first, second = await make_patient(db, settings), await make_patient(db, settings)
    start = local(doctor, 2, "10:00")
    await booked(client, first, doctor, start)
    before = await counts(db)

    response = await book(client, second, doctor, start)

    assert response.status_code == 409
    body = response.json()
    assert body["type"] == "/problems/slot-taken"
    alternatives = [a["start"] for a in body["alternatives"]]
    assert alternatives == [
        local(doctor, 2, at).isoformat() for at in ("08:30", "09:00", "09:30", "10:30", "11:00")
    ]
    assert await counts(db) == before


async def test_a_time_off_the_grid_is_a_409_with_alternatives_and_writes_nothing(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    patient = await make_patient(db, settings)
    before = await counts(db)

    off_grid = await book(client, patient, doctor, local(doctor, 2, "10:10"))
    closed = await book(client, patient, doctor, local(doctor, 2, "21:00"))
    wrong_type = await book(client, patient, doctor, local(doctor, 2, "10:00"), "teleconsultation")

    for response in (off_grid, closed):
        assert response.status_code == 409
        assert response.json()["type"] == "/problems/slot-unavailable"
        assert response.json()["alternatives"]
    assert wrong_type.status_code == 409 and wrong_type.json()["alternatives"] == []
    assert await counts(db) == before


async def test_bad_booking_inputs_are_clear_4xx_and_write_nothing(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    unverified = await make_doctor(db, settings, verified=False)
    patient = await make_patient(db, settings)
    await put_availability(client, doctor, availability(notice=120, horizon=14))
    before = await counts(db)
    url, headers = "/api/v1/appointments", patient.user.headers
    good = {"doctor_id": str(doctor.id), "visit_type": "in-person"}

    cases = {
        "unknown doctor": (
            404,
            {
                **good,
                "doctor_id": str(uuid.uuid4()),
                "start": local(doctor, 2, "10:00").isoformat(),
            },
        ),
        "unverified doctor": (
            404,
            {
                **good,
                "doctor_id": str(unverified.id),
                "start": local(doctor, 2, "10:00").isoformat(),
            },
        ),
        "past": (422, {**good, "start": local(doctor, -1, "10:00").isoformat()}),
        "beyond horizon": (422, {**good, "start": local(doctor, 20, "10:00").isoformat()}),
        "malformed doctor id": (
            422,
            {**good, "doctor_id": "nope", "start": local(doctor, 2, "10:00").isoformat()},
        ),
        "malformed date": (422, {**good, "start": "2026-02-30T10:00:00+01:00"}),
        "no offset": (422, {**good, "start": "2030-01-10T10:00:00"}),
        "unknown visit type": (
            422,
            {**good, "visit_type": "home", "start": local(doctor, 2, "10:00").isoformat()},
        ),
        "unknown reason": (
            422,
            {
                **good,
                "reason_id": str(uuid.uuid4()),
                "start": local(doctor, 2, "10:00").isoformat(),
            },
        ),
        "extra field": (422, {**good, "start": local(doctor, 2, "10:00").isoformat(), "x": 1}),
    }
    for name, (status, body) in cases.items():
        response = await client.post(url, json=body, headers=headers)
        assert response.status_code == status, (name, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    soon = local(doctor, 0, "00:00")  # within the 2 h notice whatever the hour: find the next slot
    too_soon = await client.post(url, json={**good, "start": soon.isoformat()}, headers=headers)
    assert too_soon.status_code == 422
    assert await counts(db) == before


async def test_a_patient_cannot_hold_two_overlapping_appointments(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctors = [await make_doctor(db, settings) for _ in range(4)]
    patient = await make_patient(db, settings)
    for doctor in doctors:
        await put_availability(client, doctor)
    start = local(doctors[0], 4, "15:00")

    responses = await asyncio.gather(*(book(client, patient, d, start) for d in doctors))

    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]
    assert {r.json()["type"] for r in responses if r.status_code == 409} == {
        "/problems/patient-busy"
    }
    assert await db.fetchval("SELECT count(*) FROM scheduling.appointments") == 1


async def test_booking_roles_doctors_cannot_book_admins_book_for_a_patient(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    patient = await make_patient(db, settings)
    admin = await make_user(db, settings, "admin")
    no_profile = await make_user(db, settings, "patient")
    start = local(doctor, 2, "10:00")

    assert (await book(client, doctor.user, doctor, start)).status_code == 403
    assert (await book(client, no_profile, doctor, start)).status_code == 403
    other = await make_patient(db, settings)
    assert (await book(client, other, doctor, start, patient_id=str(patient.id))).status_code == 403
    assert (await book(client, admin, doctor, start)).status_code == 422
    anonymous = await client.post("/api/v1/appointments", json={})
    assert anonymous.status_code == 401
    by_admin = await book(client, admin, doctor, start, patient_id=str(patient.id))
    assert by_admin.status_code == 201
    assert by_admin.json()["patient_id"] == str(patient.id)


async def test_a_reason_fee_must_be_a_json_integer(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    for fee in ("5000", 5000.0):
        reason = {"name": "Long", "duration_minutes": 60, "visit_types": ["in-person"]}
        response = await client.put(
            f"/api/v1/doctors/{doctor.id}/availability",
            json=availability(reasons=[{**reason, "fee_override": fee}]),
            headers=doctor.user.headers,
        )
        assert response.status_code == 422, response.text
        codes = {e["field"]: e["code"] for e in response.json()["errors"]}
        assert codes == {"reasons.0.fee_override": "int_type"}, codes


async def test_reasons_set_duration_fee_and_can_close_to_new_patients(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    patient = await make_patient(db, settings)
    reasons = [
        {
            "name": "Long visit",
            "duration_minutes": 60,
            "visit_types": ["in-person"],
            "fee_override": 5000,
        },
        {
            "name": "Follow-up",
            "duration_minutes": 30,
            "visit_types": ["in-person"],
            "new_patients_allowed": False,
        },
    ]
    saved = await put_availability(client, doctor, availability(reasons=reasons))
    long_id, follow_up_id = (r["id"] for r in saved["reasons"])

    long_visit = await booked(client, patient, doctor, local(doctor, 2, "10:00"), reason_id=long_id)
    closed = await book(client, patient, doctor, local(doctor, 3, "10:00"), reason_id=follow_up_id)

    assert long_visit["end"] == local(doctor, 2, "11:00").isoformat()
    assert long_visit["fee"] == 5000 and long_visit["reason_name"] == "Long visit"
    assert closed.status_code == 403
    assert closed.json()["type"] == "/problems/new-patients-closed"


async def test_a_revoked_or_demoted_session_books_nothing_as_a_patient(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """The route checks the session in the booking's first read: a revoked session is a 401
    (audited without a user), and an account whose role changed since its token was issued
    books as that role says (a doctor does not book: 403)."""
    doctor = await doctor_with_availability(client, db, settings)
    revoked, demoted = await make_patient(db, settings), await make_patient(db, settings)
    await db.execute(
        "UPDATE auth.sessions SET revoked_at = now() WHERE id = $1", revoked.user.session_id
    )
    await db.execute("UPDATE auth.users SET role = 'doctor' WHERE id = $1", demoted.user.id)
    refused = await book(client, revoked, doctor, local(doctor, 2, "10:00"))
    assert refused.status_code == 401, refused.text
    assert refused.json()["code"] == "session-ended"
    forbidden = await book(client, demoted, doctor, local(doctor, 2, "10:00"))
    assert forbidden.status_code == 403, forbidden.text
    assert await db.fetchval("SELECT count(*) FROM scheduling.appointments") == 0
    entries = await db.fetch(
        "SELECT user_id, role, response_status FROM audit.logs"
        " WHERE action = 'POST /api/v1/appointments' ORDER BY append_id"
    )
    assert [tuple(e) for e in entries] == [(None, None, 401), (demoted.user.id, "doctor", 403)]


async def test_a_booking_the_api_refuses_to_read_still_checks_the_session_first(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """The session is checked in the booking's first read, but a body that never reaches it
    (422) answers as every other route does: an ended session is a 401 that says nothing of
    the body, and a live one's refusal is audited with its user (as reschedule does)."""
    revoked, live = await make_patient(db, settings), await make_patient(db, settings)
    await db.execute(
        "UPDATE auth.sessions SET revoked_at = now() WHERE id = $1", revoked.user.session_id
    )
    invalid = {"doctor_id": "42", "start": "tomorrow"}
    for url in ("/api/v1/appointments", f"/api/v1/appointments/{uuid.uuid4()}/reschedule"):
        ended = await client.post(url, json=invalid, headers=revoked.user.headers)
        assert ended.status_code == 401, (url, ended.text)
        assert ended.json()["code"] == "session-ended" and "errors" not in ended.json()
        refused = await client.post(url, json=invalid, headers=live.user.headers)
        assert refused.status_code == 422, (url, refused.text)
        assert refused.json()["code"] == "fields-invalid"
    entries = await db.fetch(
        "SELECT user_id, response_status FROM audit.logs WHERE action LIKE 'POST %'"
        " ORDER BY append_id"
    )
    assert [tuple(e) for e in entries] == [(None, 401), (live.user.id, 422)] * 2
    assert await db.fetchval("SELECT count(*) FROM scheduling.appointments") == 0


async def test_a_rush_whose_session_checks_fail_answers_503_and_books_once(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The waiters of a rush check their sessions in grouped statements (storage.group): a
    group the database fails answers each of its requests a 503 problem (never a 500), the
    winner's booking stands, and the next checks run again."""
    doctor = await doctor_with_availability(client, db, settings)
    patients = [await make_patient(db, settings) for _ in range(20)]
    start = local(doctor, 3, "11:00")
    checks = booking._waiters
    working = checks._run

    async def failing(con: asyncpg.Connection, items: list[Any]) -> list[Any]:
        await con.execute("SELECT 1 / 0")
        return []

    monkeypatch.setattr(checks, "_run", failing)
    responses = await asyncio.gather(*(book(client, p, doctor, start) for p in patients))
    statuses = [r.status_code for r in responses]
    assert sorted(set(statuses)) in ([201, 503], [201, 409, 503]), statuses
    assert statuses.count(201) == 1
    for refused in (r for r in responses if r.status_code == 503):
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "unavailable" and "retry-after" in refused.headers
    assert await db.fetchval("SELECT count(*) FROM scheduling.appointments") == 1
    logged = await db.fetch(
        "SELECT response_status FROM audit.logs WHERE action = 'POST /api/v1/appointments'"
    )
    assert sorted(e["response_status"] for e in logged) == sorted(statuses)
    monkeypatch.setattr(checks, "_run", working)
    again = await asyncio.gather(*(book(client, p, doctor, start) for p in patients[:3]))
    assert {r.status_code for r in again} == {409}


async def test_a_rush_tells_each_loser_its_own_refusal_before_the_taken_slot(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """Waiting on the slot's booking does not change a caller's answer: an account without a
    patient profile (erased) is told to complete it, a patient booking for someone who is not
    their relative is refused (403 both, as outside a rush); only the others lose (409)."""
    doctor = await doctor_with_availability(client, db, settings)
    start = local(doctor, 3, "11:00")
    winner, stranger = await make_patient(db, settings), await make_patient(db, settings)
    erased = [await make_patient(db, settings) for _ in range(3)]
    await db.execute(
        "UPDATE patients.patients SET erased_at = now() WHERE id = ANY($1::uuid[])",
        [p.id for p in erased],
    )
    proxies = [await make_patient(db, settings) for _ in range(3)]
    losers = [await make_patient(db, settings) for _ in range(10)]

    responses = await asyncio.gather(
        book(client, winner, doctor, start),
        *(book(client, p, doctor, start) for p in erased),
        *(book(client, p, doctor, start, patient_id=str(stranger.id)) for p in proxies),
        *(book(client, p, doctor, start) for p in losers),
    )

    assert responses[0].status_code == 201, responses[0].text
    codes = [r.json().get("code") for r in responses[1:7]]
    assert codes == ["profile-first"] * 3 + ["book-for-self"] * 3
    assert {r.status_code for r in responses[7:]} == {409}
    assert await db.fetchval("SELECT count(*) FROM scheduling.appointments") == 1


async def test_a_mixed_rush_answers_each_caller_and_audits_each_request_once(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """Valid, revoked and wrong-role tokens racing for one slot: one winner, 409 for the other
    patients, 401 for ended sessions, 403 for doctors (by token or by their account's new
    role); each request has one audit entry, with its own status, caller and request id."""
    doctor = await doctor_with_availability(client, db, settings)
    start = local(doctor, 3, "11:00")
    valid = [await make_patient(db, settings) for _ in range(20)]
    revoked = [await make_patient(db, settings) for _ in range(5)]
    demoted = [await make_patient(db, settings) for _ in range(5)]
    doctors = [await make_user(db, settings, "doctor") for _ in range(3)]
    await db.execute(
        "UPDATE auth.sessions SET revoked_at = now() WHERE user_id = ANY($1::uuid[])",
        [p.user.id for p in revoked],
    )
    await db.execute(
        "UPDATE auth.users SET role = 'doctor' WHERE id = ANY($1::uuid[])",
        [p.user.id for p in demoted],
    )
    callers = [*valid, *revoked, *demoted, *doctors]

    responses = await asyncio.gather(*(book(client, c, doctor, start) for c in callers))

    statuses = [r.status_code for r in responses]
    assert sorted(statuses[:20]) == [201] + [409] * 19
    assert statuses[20:] == [401] * 5 + [403] * 8
    entries = {
        e["request_id"]: e
        for e in await db.fetch(
            "SELECT request_id, user_id, response_status FROM audit.logs"
            " WHERE action = 'POST /api/v1/appointments'"
        )
    }
    assert len(entries) == len(callers)
    for caller, response in zip(callers, responses, strict=True):
        entry = entries[response.headers["x-request-id"]]
        assert entry["response_status"] == response.status_code
        user = caller.user if isinstance(caller, Patient) else caller
        assert entry["user_id"] == (None if response.status_code == 401 else user.id)
    assert await db.fetchval("SELECT count(*) FROM scheduling.appointments") == 1
