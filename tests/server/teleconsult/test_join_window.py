"""The joining window comes from the server: sessions and teleconsultation appointments carry
`join_opens_at` / `join_closes_at` computed from its settings (browsers keep no copy of them)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from server import clock
from server.settings import Settings
from tests.conftest import EngineUrls, delete_stream, make_settings
from tests.factories import make_doctor, make_patient
from tests.server.scheduling.helpers import availability, booked, local, move_to, put_availability
from tests.signaling.helpers import (
    SESSION_API,
    teleconsultation_appointment,
    until_session_of,
)

pytestmark = pytest.mark.engines

# Far from the defaults (15 min, 30 min): values that can only come from these settings.
EARLY = timedelta(hours=6)
GRACE = timedelta(minutes=10)


@pytest.fixture
async def settings(
    database_url: str, engine_urls: EngineUrls, tmp_path: Path
) -> AsyncIterator[Settings]:
    settings = make_settings(
        database_url,
        engine_urls.nats_url,
        tmp_path,
        consult_join_early_s=int(EARLY.total_seconds()),
        consult_grace_s=int(GRACE.total_seconds()),
    )
    yield settings
    await delete_stream(engine_urls.nats_url, settings.nats_stream)


def _at(value: Any) -> datetime:
    assert isinstance(value, str), value
    return datetime.fromisoformat(value)


def _window(body: dict[str, Any]) -> tuple[datetime, datetime]:
    return _at(body["join_opens_at"]), _at(body["join_closes_at"])


async def test_sessions_and_appointments_carry_the_window_of_the_server_settings(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, patient, appointment_id = await teleconsultation_appointment(client, db, settings)
    session = await until_session_of(client, patient.user.headers, appointment_id)
    appointment = (
        await client.get(f"/api/v1/appointments/{appointment_id}", headers=patient.user.headers)
    ).json()
    start, end = _at(appointment["start"]), _at(appointment["end"])
    expected = (start - EARLY, end + GRACE)
    assert _window(session) == expected
    assert _window(appointment) == expected
    # In the appointment's own zone, like its start and end.
    assert _at(appointment["join_opens_at"]).utcoffset() == start.utcoffset()

    # Every way of reading them agrees: by id, the doctor's idempotent open, both lists.
    by_id = await client.get(f"{SESSION_API}/{session['id']}", headers=doctor.user.headers)
    opened = await client.post(
        SESSION_API, json={"appointment_id": appointment_id}, headers=doctor.user.headers
    )
    mine = await client.get(
        f"/api/v1/appointments/patient/{patient.id}", headers=patient.user.headers
    )
    agenda = await client.get(
        f"/api/v1/appointments/doctor/{doctor.id}",
        params={"from": (start - timedelta(days=1)).isoformat(), "to": end.isoformat()},
        headers=doctor.user.headers,
    )
    for response in (by_id, opened, mine, agenda):
        assert response.status_code == 200, response.text
    assert _window(by_id.json()) == _window(opened.json()) == expected
    [listed] = mine.json()["items"]
    [on_agenda] = agenda.json()["items"]
    assert _window(listed) == _window(on_agenda) == expected

    # Ending the session answers it too.
    ended = await client.post(f"{SESSION_API}/{session['id']}/end", headers=doctor.user.headers)
    assert ended.status_code == 200 and _window(ended.json()) == expected


async def test_the_join_opens_when_the_api_says_it_does_not_at_the_default(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, patient, appointment_id = await teleconsultation_appointment(client, db, settings)
    session = await until_session_of(client, patient.user.headers, appointment_id)
    join = f"{SESSION_API}/{session['id']}/join"
    # Hours ahead: closed under the defaults, open under these settings.
    await move_to(db, appointment_id, clock.now() + timedelta(hours=5))
    shown, joined = await asyncio.gather(
        client.get(f"/api/v1/appointments/{appointment_id}", headers=patient.user.headers),
        client.post(join, headers=patient.user.headers),
    )
    opens, closes = _window(shown.json())
    assert opens <= clock.now() < closes
    assert joined.status_code == 200, joined.text
    assert (
        _at(joined.json()["window"]["opens_at"]),
        _at(joined.json()["window"]["closes_at"]),
    ) == (
        opens,
        closes,
    )
    # Beyond it: refused, and the problem names the same edge the API showed.
    await move_to(db, appointment_id, clock.now() + EARLY + timedelta(hours=1))
    shown = await client.get(f"/api/v1/appointments/{appointment_id}", headers=doctor.user.headers)
    refused = await client.post(join, headers=patient.user.headers)
    assert refused.status_code == 403
    assert refused.json()["type"] == "/problems/outside-join-window"
    assert _at(refused.json()["opens_at"]) == _window(shown.json())[0] > clock.now()


async def test_in_person_appointments_have_no_join_window(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    patient = await make_patient(db, settings)
    await put_availability(client, doctor, availability(notice=0))
    appointment = await booked(client, patient, doctor, local(doctor, 2, "10:00"))
    assert appointment["visit_type"] == "in-person"
    assert appointment["join_opens_at"] is None and appointment["join_closes_at"] is None
    missing = await client.get(
        SESSION_API, params={"appointment_id": appointment["id"]}, headers=patient.user.headers
    )
    assert missing.status_code == 404
    bad = await client.get(
        SESSION_API, params={"appointment_id": "x"}, headers=patient.user.headers
    )
    assert bad.status_code == 422


async def test_the_openapi_schema_documents_the_window(client: httpx.AsyncClient) -> None:
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    for model in ("SessionOut", "AppointmentOut"):
        fields = schemas[model]["properties"]
        for name in ("join_opens_at", "join_closes_at"):
            assert "consult_" in fields[name]["description"], (model, name)
    assert {"join_opens_at", "join_closes_at"} <= set(schemas["SessionOut"]["required"])
