"""Teleconsultation sessions over REST: creation, reading, joining rules, TURN, ending."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
from asgi_lifespan import LifespanManager
from pydantic import SecretStr

from server import clock
from server.app import create_app
from server.settings import Settings
from server.teleconsult.sweeper import close_expired_sessions
from server.teleconsult.tokens import JOIN_AUDIENCE
from storage.pool import open_pool
from tests.conftest import EngineUrls, delete_stream, make_settings
from tests.factories import make_user
from tests.server.scheduling.helpers import events_of, move_to
from tests.signaling.helpers import (
    SESSION_API,
    consultation,
    open_session,
    teleconsultation_appointment,
    until_session_of,
)

pytestmark = pytest.mark.engines


async def _audit(db: asyncpg.Connection, action: str) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await db.fetch(
        """SELECT user_id, resource_id, response_status FROM audit.logs
           WHERE action = $1 ORDER BY append_id""",
        action,
    )
    return rows


async def test_confirming_a_teleconsultation_opens_its_session_once(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, patient, appointment_id = await teleconsultation_appointment(client, db, settings)
    session = await until_session_of(client, patient.user.headers, appointment_id)
    assert session["status"] == "scheduled" and session["started_at"] is None
    room_id = str(session["room_id"])
    assert len(room_id) >= 32 and appointment_id not in room_id
    # On demand afterwards: the same session, answered 200.
    again = await client.post(
        SESSION_API, json={"appointment_id": appointment_id}, headers=doctor.user.headers
    )
    assert again.status_code == 200 and again.json()["id"] == session["id"]
    assert await db.fetchval("SELECT count(*) FROM teleconsult.sessions") == 1


async def test_the_doctor_opens_a_session_any_time_the_patient_only_in_its_window(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, patient, appointment_id = await teleconsultation_appointment(
        client, db, settings, confirm=False
    )
    body = {"appointment_id": appointment_id}
    refused = await client.post(SESSION_API, json=body, headers=patient.user.headers)
    assert refused.status_code == 403
    assert refused.json()["type"] == "/problems/outside-join-window"
    racing = await asyncio.gather(
        *(client.post(SESSION_API, json=body, headers=doctor.user.headers) for _ in range(5))
    )
    assert sorted(r.status_code for r in racing) == [200, 200, 200, 200, 201]
    assert len({r.json()["id"] for r in racing}) == 1

    missing = await client.post(
        SESSION_API, json={"appointment_id": str(uuid.uuid4())}, headers=doctor.user.headers
    )
    assert missing.status_code == 404
    bad = await client.post(
        SESSION_API, json={"appointment_id": "nope"}, headers=doctor.user.headers
    )
    assert bad.status_code == 422
    extra = await client.post(
        SESSION_API, json={**body, "room_id": "mine"}, headers=doctor.user.headers
    )
    assert extra.status_code == 422
    assert (await client.post(SESSION_API, json=body)).status_code == 401


async def test_a_third_user_cannot_read_or_join_and_each_refusal_is_audited(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    c = await consultation(client, db, settings)
    stranger = await make_user(db, settings, "patient")
    other_doctor = await make_user(db, settings, "doctor")
    admin = await make_user(db, settings, "admin")
    for user in (stranger, other_doctor):
        url = f"{SESSION_API}/{c.session_id}"
        assert (await client.get(url, headers=user.headers)).status_code == 404
        assert (await client.post(f"{url}/join", headers=user.headers)).status_code == 404
        assert (await client.get(f"{url}/token", headers=user.headers)).status_code == 404
        ended = await client.post(f"{url}/end", headers=user.headers)
        assert ended.status_code == 404
    refused = await _audit(db, "consultation.join_refused")
    assert [(r["user_id"], r["response_status"]) for r in refused] == [
        (stranger.id, 404),
        (stranger.id, 404),
        (other_doctor.id, 404),
        (other_doctor.id, 404),
    ]
    assert {r["resource_id"] for r in refused} == {c.session_id}
    # Admins read (audited) but never join: the call is between the two parties.
    read = await client.get(f"{SESSION_API}/{c.session_id}", headers=admin.headers)
    assert read.status_code == 200
    joined = await client.post(f"{SESSION_API}/{c.session_id}/join", headers=admin.headers)
    assert joined.status_code == 403
    assert [r["user_id"] for r in await _audit(db, "consultation.read")] == [admin.id]
    status = await db.fetchval("SELECT status FROM teleconsult.sessions")
    assert status == "scheduled"


async def test_parties_get_a_short_lived_join_token_naming_room_user_and_role(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    c = await consultation(client, db, settings)
    grants = {}
    for who, user in (("patient", c.patient.user), ("doctor", c.doctor.user)):
        response = await client.post(f"{SESSION_API}/{c.session_id}/join", headers=user.headers)
        assert response.status_code == 200, response.text
        grant = response.json()
        assert grant["role"] == who and grant["polite"] is (who == "patient")
        assert grant["ice_servers"] == []  # no STUN / TURN configured: host candidates
        assert grant["signaling"] == {"namespace": "/consult", "join_event": "call.join"}
        claims = jwt.decode(
            grant["token"],
            settings.jwt_secret.get_secret_value(),
            algorithms=["HS256"],
            audience=JOIN_AUDIENCE,
        )
        assert claims["sub"] == str(user.id) and claims["role"] == who
        assert claims["room"] == grant["room_id"] and claims["ses"] == c.session_id
        assert claims["exp"] - time.time() <= settings.consult_join_token_ttl_s + 1
        grants[who] = grant
    # Not an access token: the API refuses it.
    me = await client.get(
        f"{SESSION_API}/{c.session_id}",
        headers={"Authorization": f"Bearer {grants['patient']['token']}"},
    )
    assert me.status_code == 401
    refreshed = await client.get(
        f"{SESSION_API}/{c.session_id}/token", headers=c.patient.user.headers
    )
    assert refreshed.status_code == 200 and refreshed.json()["role"] == "patient"


@pytest.mark.parametrize(
    ("start_in", "window_edge"),
    [(timedelta(minutes=20), "opens_at"), (timedelta(hours=-2), "closes_at")],
    ids=["too-early", "after-the-grace-period"],
)
async def test_joining_outside_the_window_is_refused_and_audited(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    settings: Settings,
    start_in: timedelta,
    window_edge: str,
) -> None:
    c = await consultation(client, db, settings)
    await move_to(db, c.appointment_id, clock.now() + start_in)
    response = await client.post(
        f"{SESSION_API}/{c.session_id}/join", headers=c.patient.user.headers
    )
    assert response.status_code == 403
    problem = response.json()
    assert problem["type"] == "/problems/outside-join-window" and problem[window_edge]
    refused = await _audit(db, "consultation.join_refused")
    assert [(r["user_id"], r["response_status"]) for r in refused] == [(c.patient.user.id, 403)]


async def test_turn_credentials_are_time_limited_hmac_of_the_coturn_secret(
    engine_urls: EngineUrls, database_url: str, db: asyncpg.Connection, tmp_path: Path
) -> None:
    settings = make_settings(
        database_url,
        engine_urls.nats_url,
        tmp_path,
        turn_secret=SecretStr("coturn-static-secret"),
        turn_urls=["turn:turn.markini.test:3478?transport=udp", "turns:turn.markini.test:5349"],
        stun_urls=["stun:turn.markini.test:3478"],
        turn_credential_ttl_s=600,
    )
    try:
        async with LifespanManager(create_app(settings), startup_timeout=60) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                c = await consultation(client, db, settings)
                url = f"{SESSION_API}/{c.session_id}/join"
                grant = (await client.post(url, headers=c.doctor.user.headers)).json()
    finally:
        await delete_stream(engine_urls.nats_url, settings.nats_stream)
    stun, turn = grant["ice_servers"]
    assert stun == {"urls": ["stun:turn.markini.test:3478"], "username": None, "credential": None}
    assert turn["urls"] == settings.turn_urls
    expiry, user_id = turn["username"].split(":")
    assert user_id == str(c.doctor.user.id)
    assert 0 < int(expiry) - time.time() <= 600
    digest = hmac.new(b"coturn-static-secret", turn["username"].encode(), hashlib.sha1).digest()
    assert turn["credential"] == base64.b64encode(digest).decode()


async def _end(
    client: httpx.AsyncClient, session_id: str, headers: dict[str, str], **body: Any
) -> httpx.Response:
    return await client.post(f"{SESSION_API}/{session_id}/end", json=body or None, headers=headers)


async def test_ending_a_started_session_records_duration_and_emits_one_event(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    c = await consultation(client, db, settings)
    # Started 7 minutes ago (the doctor admitted the patient; see tests/signaling for that path).
    await db.execute(
        """UPDATE teleconsult.sessions SET status = 'active',
           started_at = $2 WHERE id = $1""",
        uuid.UUID(c.session_id),
        clock.now() - timedelta(minutes=7),
    )
    both = await asyncio.gather(
        _end(client, c.session_id, c.doctor.user.headers, reason="done"),
        _end(client, c.session_id, c.patient.user.headers),
    )
    assert [r.status_code for r in both] == [200, 200]
    ended = both[0].json()
    assert ended["status"] == "completed" and ended["ended_at"]
    assert 7 * 60 <= ended["duration_s"] < 8 * 60
    assert both[1].json()["ended_at"] == ended["ended_at"], "the second end changes nothing"
    events = await events_of(db, "teleconsultation.ended")
    assert len(events) == 1
    event = events[0]
    assert event["subject"] == f"teleconsultation:{c.session_id}"
    assert event["status"] == "completed" and event["duration_s"] == ended["duration_s"]
    assert event["patient_id"] == str(c.patient.id) and "room_id" not in event
    # Closed: nobody joins any more.
    join = await client.post(f"{SESSION_API}/{c.session_id}/join", headers=c.patient.user.headers)
    assert join.status_code == 409


async def test_a_session_ended_before_it_started_failed(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    c = await consultation(client, db, settings)
    response = await _end(client, c.session_id, c.doctor.user.headers, outcome="completed")
    assert response.status_code == 200
    assert response.json()["status"] == "failed" and response.json()["duration_s"] == 0
    bad = await _end(client, c.session_id, c.doctor.user.headers, outcome="maybe")
    assert bad.status_code == 422


async def test_cancelling_the_appointment_fails_its_unstarted_session(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, patient, appointment_id = await teleconsultation_appointment(client, db, settings)
    session_id = await open_session(client, doctor, appointment_id)
    cancel = await client.post(
        f"/api/v1/appointments/{appointment_id}/cancel", json={}, headers=doctor.user.headers
    )
    assert cancel.status_code == 200, cancel.text
    async with asyncio.timeout(15):
        while (await db.fetchval("SELECT status FROM teleconsult.sessions")) != "failed":
            await asyncio.sleep(0.05)
    events = await events_of(db, "teleconsultation.ended")
    assert [(e["session_id"], e["ended_by"]) for e in events] == [(session_id, None)]
    join = await client.post(f"{SESSION_API}/{session_id}/join", headers=patient.user.headers)
    assert join.status_code == 409


async def test_a_call_nobody_ended_is_completed_when_its_window_closes(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, database_url: str
) -> None:
    c = await consultation(client, db, settings)
    start = clock.now() - timedelta(hours=3)
    await move_to(db, c.appointment_id, start)  # ended 2.5 h ago; the grace is 30 min
    await db.execute(
        """UPDATE teleconsult.sessions SET status = 'active', started_at = $2 WHERE id = $1""",
        uuid.UUID(c.session_id),
        start + timedelta(minutes=2),
    )
    async with open_pool(database_url, max_size=2) as pool:
        assert await close_expired_sessions(pool, settings) == 1
        assert await close_expired_sessions(pool, settings) == 0
    row = await db.fetchrow(
        "SELECT status, ended_at, duration_s, end_reason FROM teleconsult.sessions"
    )
    assert row is not None and row["status"] == "completed"
    closes = start + timedelta(minutes=30) + timedelta(seconds=settings.consult_grace_s)
    assert row["ended_at"] == closes and row["duration_s"] == (58 * 60)
    [event] = await events_of(db, "teleconsultation.ended")
    assert event["ended_by"] is None and event["reason"] == "joining window closed"


async def test_a_stranger_cannot_tell_whether_an_appointment_has_a_consultation(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    c = await consultation(client, db, settings)
    _, _, without_session = await teleconsultation_appointment(client, db, settings, confirm=False)
    stranger = await make_user(db, settings, "patient")
    other_doctor = await make_user(db, settings, "doctor")
    answers = []
    for appointment_id in (c.appointment_id, without_session, str(uuid.uuid4())):
        for user in (stranger, other_doctor):
            response = await client.get(
                SESSION_API, params={"appointment_id": appointment_id}, headers=user.headers
            )
            answers.append(
                (response.status_code, response.json()["type"], response.json()["detail"])
            )
        opened = await client.post(
            SESSION_API, json={"appointment_id": appointment_id}, headers=other_doctor.headers
        )
        answers.append((opened.status_code, opened.json()["type"], opened.json()["detail"]))
    assert {a[:2] for a in answers} == {(404, "/problems/not-found")}
    assert len({a for a in answers if a[2] != "No such appointment."}) == 1
    mine = await client.get(
        SESSION_API, params={"appointment_id": c.appointment_id}, headers=c.patient.user.headers
    )
    assert mine.status_code == 200 and mine.json()["id"] == c.session_id
