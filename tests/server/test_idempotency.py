"""Idempotency-Key on state-changing POSTs: a repeat gets the first answer, through the real app
and PostgreSQL (server/idempotency)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
import time_machine

from server import clock
from server.auth.tokens import issue_access_token
from server.errors import ServiceUnavailable
from server.idempotency.sweeper import delete_expired_keys
from server.scheduling import service
from server.settings import Settings
from storage.pool import open_pool
from tests.factories import Doctor, Patient, User, make_patient
from tests.server.scheduling.helpers import (
    booked,
    counts,
    doctor_with_availability,
    events_of,
    local,
)

URL = "/api/v1/appointments"


def _with_key(user: User, key: str | bytes) -> dict[str, Any]:
    return {**user.headers, "Idempotency-Key": key}


async def _book(
    client: httpx.AsyncClient, patient: Patient, doctor: Doctor, days: int, at: str, key: str
) -> httpx.Response:
    body = {"doctor_id": str(doctor.id), "start": local(doctor, days, at).isoformat()}
    return await client.post(
        URL, json={**body, "visit_type": "in-person"}, headers=_with_key(patient.user, key)
    )


async def _parties(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> tuple[Doctor, Patient]:
    return await doctor_with_availability(client, db, settings), await make_patient(db, settings)


async def test_a_double_booking_with_one_key_books_once_and_answers_the_same_201(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, patient = await _parties(client, db, settings)
    key = str(uuid.uuid4())
    first = await _book(client, patient, doctor, 3, "10:00", key)
    assert first.status_code == 201, first.text
    after_first = await counts(db)
    again = await _book(client, patient, doctor, 3, "10:00", key)
    assert again.status_code == 201, again.text
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await counts(db) == after_first
    assert len(await events_of(db, "appointment.created")) == 1
    assert await db.fetchval("SELECT count(*) FROM scheduling.appointments") == 1


async def test_a_repeated_reschedule_with_one_key_answers_the_first_200_not_unchanged(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, patient = await _parties(client, db, settings)
    appointment = await booked(client, patient, doctor, local(doctor, 3, "10:00"))
    url = f"{URL}/{appointment['id']}/reschedule"
    body = {"start": local(doctor, 4, "11:00").isoformat()}
    headers = _with_key(patient.user, "move-1")
    first = await client.post(url, json=body, headers=headers)
    assert first.status_code == 200, first.text
    again = await client.post(url, json=body, headers=headers)
    assert again.status_code == 200, again.text
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert len(await events_of(db, "appointment.rescheduled")) == 1
    # Without the key the same move is the 422 "unchanged" it always was.
    fresh = await client.post(url, json=body, headers=patient.user.headers)
    assert fresh.status_code == 422


@pytest.mark.parametrize("action", ["cancel", "confirm"])
async def test_a_repeated_transition_with_one_key_answers_the_first_200(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, action: str
) -> None:
    doctor, patient = await _parties(client, db, settings)
    appointment = await booked(client, patient, doctor, local(doctor, 3, "10:00"))
    user = patient.user if action == "cancel" else doctor.user
    url = f"{URL}/{appointment['id']}/{action}"
    first = await client.post(url, headers=_with_key(user, "act-1"))
    assert first.status_code == 200, first.text
    again = await client.post(url, headers=_with_key(user, "act-1"))
    assert again.status_code == 200, again.text
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    event = "appointment.cancelled" if action == "cancel" else "appointment.confirmed"
    assert len(await events_of(db, event)) == 1
    refused = await client.post(url, headers=_with_key(user, "act-2"))
    assert refused.status_code == 409  # a new key is a new request: the state machine refuses


async def test_a_stored_answer_keeps_health_data_encrypted(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, patient = await _parties(client, db, settings)
    body = {
        "doctor_id": str(doctor.id),
        "start": local(doctor, 3, "10:00").isoformat(),
        "visit_type": "in-person",
        "notes": "persistent cough since March",
    }
    headers = _with_key(patient.user, "notes")
    first = await client.post(URL, json=body, headers=headers)
    assert first.status_code == 201, first.text
    stored = await db.fetchval("SELECT response_body::text FROM api.idempotency_keys")
    assert "cough" not in stored and '"kid"' in stored
    again = await client.post(URL, json=body, headers=headers)
    assert again.json()["notes"] == "persistent cough since March"
    assert again.content == first.content


async def test_one_key_for_another_request_is_a_422_and_changes_nothing(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, patient = await _parties(client, db, settings)
    first = await _book(client, patient, doctor, 3, "10:00", "k")
    assert first.status_code == 201, first.text
    before = await counts(db)
    other = await _book(client, patient, doctor, 3, "11:00", "k")
    assert other.status_code == 422, other.text
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["type"] == "/problems/idempotency-key-reused"
    other_path = await client.post(
        f"{URL}/{first.json()['id']}/cancel", headers=_with_key(patient.user, "k")
    )
    assert other_path.status_code == 422
    assert await counts(db) == before
    assert await db.fetchval("SELECT status FROM scheduling.appointments") == "scheduled"


async def test_concurrent_requests_with_one_key_book_one_appointment(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, patient = await _parties(client, db, settings)
    answers = await asyncio.gather(
        *(_book(client, patient, doctor, 3, "10:00", "rush") for _ in range(6))
    )
    statuses = sorted(a.status_code for a in answers)
    assert 201 in statuses and set(statuses) <= {201, 409}, [a.text for a in answers]
    created = {a.json()["id"] for a in answers if a.status_code == 201}
    assert len(created) == 1
    for busy in (a for a in answers if a.status_code == 409):
        assert busy.json()["type"] == "/problems/idempotency-key-in-flight"
        assert busy.headers["retry-after"] == "1"
    assert await db.fetchval("SELECT count(*) FROM scheduling.appointments") == 1
    assert len(await events_of(db, "appointment.created")) == 1


async def test_the_same_key_from_two_patients_does_not_collide(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, one = await _parties(client, db, settings)
    two = await make_patient(db, settings)
    first = await _book(client, one, doctor, 3, "10:00", "same-key")
    second = await _book(client, two, doctor, 3, "11:00", "same-key")
    assert (first.status_code, second.status_code) == (201, 201), second.text
    assert "idempotent-replayed" not in second.headers
    assert first.json()["id"] != second.json()["id"]
    assert await db.fetchval("SELECT count(*) FROM scheduling.appointments") == 2


async def test_an_expired_key_runs_the_request_afresh_and_is_swept(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    settings: Settings,
    database_url: str,
) -> None:
    doctor, patient = await _parties(client, db, settings)
    first = await _book(client, patient, doctor, 4, "10:00", "old")
    assert first.status_code == 201, first.text
    later = clock.now() + timedelta(seconds=settings.idempotency_key_ttl_s + 60)
    # The session must outlive the key (sessions end by the same clock).
    await db.execute(
        "UPDATE auth.sessions SET expires_at = $2 WHERE id = $1",
        patient.user.session_id,
        later + timedelta(hours=1),
    )
    with time_machine.travel(later, tick=True):
        user = patient.user
        user.token = issue_access_token(settings, user.id, user.role, user.session_id)
        # Within a day this body would be a 422 (the key was used for another request).
        again = await _book(client, patient, doctor, 4, "11:00", "old")
        assert again.status_code == 201, again.text
        assert "idempotent-replayed" not in again.headers
        assert again.json()["id"] != first.json()["id"]
        await db.execute(
            """UPDATE api.idempotency_keys SET expires_at = created_at""",
        )
        async with open_pool(database_url, max_size=2) as pool:
            assert await delete_expired_keys(pool) == 1
    assert await db.fetchval("SELECT count(*) FROM api.idempotency_keys") == 0


@pytest.fixture
async def lenient_client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client that gets the 500 answer instead of the app's exception."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.mark.parametrize("failure", [RuntimeError("boom"), ServiceUnavailable("down")])
async def test_a_failed_first_request_releases_its_key(
    lenient_client: httpx.AsyncClient,
    db: asyncpg.Connection,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    failure: Exception,
) -> None:
    client = lenient_client
    doctor, patient = await _parties(client, db, settings)
    real = service.book_appointment
    calls = 0

    async def failing_once(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise failure
        return await real(*args)

    monkeypatch.setattr(service, "book_appointment", failing_once)
    failed = await _book(client, patient, doctor, 3, "10:00", "retry-me")
    assert failed.status_code >= 500
    assert await db.fetchval("SELECT count(*) FROM api.idempotency_keys") == 0
    retried = await _book(client, patient, doctor, 3, "10:00", "retry-me")
    assert retried.status_code == 201, retried.text
    assert "idempotent-replayed" not in retried.headers
    assert calls == 2


async def test_a_4xx_answer_is_stored_and_replayed(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, patient = await _parties(client, db, settings)
    rival = await make_patient(db, settings)
    taken = await booked(client, rival, doctor, local(doctor, 3, "10:00"))
    refused = await _book(client, patient, doctor, 3, "10:00", "late")
    assert refused.status_code == 409, refused.text
    cancelled = await client.post(f"{URL}/{taken['id']}/cancel", headers=rival.user.headers)
    assert cancelled.status_code == 200
    again = await _book(client, patient, doctor, 3, "10:00", "late")
    assert again.status_code == 409
    assert again.content == refused.content
    assert again.headers["content-type"] == "application/problem+json"
    assert again.headers["idempotent-replayed"] == "true"


@pytest.mark.parametrize("key", ["x" * 256, b"caf\xc3\xa9", b"tab\there"])
async def test_a_malformed_key_is_a_400_problem(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, key: str | bytes
) -> None:
    doctor, patient = await _parties(client, db, settings)
    body = {"doctor_id": str(doctor.id), "start": local(doctor, 3, "10:00").isoformat()}
    response = await client.post(URL, json=body, headers=_with_key(patient.user, key))
    assert response.status_code == 400, response.text
    assert response.json()["type"] == "/problems/invalid-idempotency-key"
    assert await db.fetchval("SELECT count(*) FROM scheduling.appointments") == 0


async def test_a_key_without_a_signed_in_caller_is_refused(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    body = {"doctor_id": str(doctor.id), "start": local(doctor, 3, "10:00").isoformat()}
    anonymous = await client.post(URL, json=body, headers={"Idempotency-Key": "k"})
    assert anonymous.status_code == 400
    stale = await client.post(
        URL, json=body, headers={"Idempotency-Key": "k", "Authorization": "Bearer nope"}
    )
    assert stale.status_code == 401
    assert await db.fetchval("SELECT count(*) FROM api.idempotency_keys") == 0


async def test_openapi_documents_the_key_on_every_state_changing_post(
    client: httpx.AsyncClient,
) -> None:
    schema = (await client.get("/openapi.json")).json()
    posts = {
        path: ops["post"]
        for path, ops in schema["paths"].items()
        if "post" in ops and path.startswith("/api/v1/")
    }
    for path in (
        "/api/v1/appointments",
        "/api/v1/appointments/{appointment_id}/reschedule",
        "/api/v1/appointments/{appointment_id}/cancel",
        "/api/v1/appointments/{appointment_id}/confirm",
    ):
        operation = posts[path]
        header = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
        assert header and header[0]["in"] == "header" and not header[0]["required"], path
        assert {"400", "409", "422"} <= set(operation["responses"]), path
    for path, operation in posts.items():
        names = {p["name"] for p in operation.get("parameters", [])}
        assert ("Idempotency-Key" in names) != path.startswith("/api/v1/auth/"), path
