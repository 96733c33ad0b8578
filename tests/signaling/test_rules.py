"""Signaling refusals and routing: tokens, admission, one socket per party, the call's end."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from realtime.protocol import AGENDA_NS, CONSULT_NS
from server import clock
from server.settings import Settings
from signaling.protocol import (
    AGENDA_WAITING,
    CALL_ENDED,
    CALL_ICE,
    CALL_MEDIA,
    CALL_OFFER,
    CALL_PEER_JOINED,
    CALL_PEER_LEFT,
    CALL_REPLACED,
    CALL_WAITING,
    MAX_SDP_CHARS,
)
from tests.factories import User, make_user
from tests.realtime.conftest import ConnectProbe, LiveServer
from tests.realtime.helpers import Probe
from tests.server.scheduling.helpers import move_to
from tests.signaling.helpers import (
    SESSION_API,
    Consultation,
    consultation,
    teleconsultation_appointment,
)

pytestmark = pytest.mark.engines

CALL_EVENTS = [
    (CONSULT_NS, e)
    for e in (
        CALL_OFFER,
        CALL_ICE,
        CALL_MEDIA,
        CALL_WAITING,
        CALL_PEER_JOINED,
        CALL_PEER_LEFT,
        CALL_REPLACED,
        CALL_ENDED,
    )
]
PRESENCE = (CALL_WAITING, CALL_PEER_JOINED, CALL_PEER_LEFT)
OFFER = {"type": "offer", "sdp": "v=0\r\n"}


async def _grant(server: LiveServer, c: Consultation, user: User) -> str:
    response = await server.http.post(f"{SESSION_API}/{c.session_id}/join", headers=user.headers)
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


async def _socket(server: LiveServer, connect: ConnectProbe, user: User) -> Probe:
    return await connect(server, [CONSULT_NS], user.token, CALL_EVENTS)


async def _ask(probe: Probe, event: str, **data: Any) -> dict[str, Any]:
    return dict(await probe.call(CONSULT_NS, event, data))


def _code(ack: dict[str, Any]) -> str:
    assert ack["ok"] is False, ack
    return str(ack["error"]["code"])


async def _in_call(server: LiveServer, connect: ConnectProbe, c: Consultation, user: User) -> Probe:
    probe = await _socket(server, connect, user)
    ack = await _ask(probe, "call.join", join_token=await _grant(server, c, user))
    assert ack["ok"], ack
    return probe


async def test_join_tokens_are_bound_to_their_user_and_checked_again_at_the_socket(
    live_server: LiveServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    c = await consultation(live_server.http, db, settings)
    stranger = await make_user(db, settings, "patient")
    patient_token = await _grant(live_server, c, c.patient.user)
    thief = await _socket(live_server, connect, stranger)
    assert _code(await _ask(thief, "call.join", join_token=patient_token)) == "forbidden"
    assert _code(await _ask(thief, "call.join", join_token="x.y.z")) == "unauthenticated"
    assert _code(await _ask(thief, "call.join", join_token=c.patient.user.token)) == (
        "unauthenticated"
    ), "an access token is not a join token"
    assert _code(await _ask(thief, "call.join")) == "invalid_payload"
    # The window closed after the token was issued: the socket join is refused too.
    await move_to(db, c.appointment_id, clock.now() - timedelta(hours=3))
    patient = await _socket(live_server, connect, c.patient.user)
    assert _code(await _ask(patient, "call.join", join_token=patient_token)) == "forbidden"
    refused = await db.fetch(
        """SELECT user_id, response_status FROM audit.logs
           WHERE action = 'consultation.join_refused' ORDER BY append_id"""
    )
    assert [(r["user_id"], r["response_status"]) for r in refused] == [
        (stranger.id, 403),
        (c.patient.user.id, 403),
    ]
    assert await db.fetchval("SELECT count(*) FROM teleconsult.presence") == 0


async def test_nothing_is_relayed_before_the_doctor_admits_and_only_the_doctor_admits(
    live_server: LiveServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    c = await consultation(live_server.http, db, settings)
    outsider = await _socket(live_server, connect, c.patient.user)
    ref = {"session_id": c.session_id}
    assert _code(await _ask(outsider, "call.offer", **ref, description=OFFER)) == "not_joined"
    doctor = await _in_call(live_server, connect, c, c.doctor.user)
    assert _code(await _ask(doctor, "call.admit", **ref)) == "conflict"  # nobody waiting
    patient = await _in_call(live_server, connect, c, c.patient.user)
    await doctor.until(lambda: len(doctor.got(CONSULT_NS, CALL_WAITING)) == 1)
    assert _code(await _ask(patient, "call.offer", **ref, description=OFFER)) == "forbidden"
    assert _code(await _ask(doctor, "call.offer", **ref, description=OFFER)) == "forbidden"
    assert _code(await _ask(patient, "call.admit", **ref)) == "forbidden"
    admitted = await _ask(doctor, "call.admit", **ref)
    assert admitted["ok"] and admitted["data"]["started_at"]
    again = await _ask(doctor, "call.admit", **ref)
    assert again["data"]["started_at"] == admitted["data"]["started_at"]
    started = await db.fetch("SELECT data FROM bus.outbox WHERE type = 'teleconsultation.started'")
    assert len(started) == 1 and started[0]["data"]["session_id"] == c.session_id

    bad = {"type": "answer", "sdp": "v=0"}
    assert _code(await _ask(doctor, "call.offer", **ref, description=bad)) == "invalid_payload"
    huge = {"type": "offer", "sdp": "a" * (MAX_SDP_CHARS + 1)}
    assert _code(await _ask(doctor, "call.offer", **ref, description=huge)) == "invalid_payload"
    assert _code(await _ask(doctor, "call.ice", **ref)) == "invalid_payload"


async def test_signals_reach_only_the_other_partys_call_socket(
    live_server: LiveServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    c = await consultation(live_server.http, db, settings)
    doctor = await _in_call(live_server, connect, c, c.doctor.user)
    patient = await _in_call(live_server, connect, c, c.patient.user)
    ref = {"session_id": c.session_id}
    assert (await _ask(doctor, "call.admit", **ref))["ok"]
    # The patient's phone has the consultation chat open (same room) but is not in the call.
    phone = await _socket(live_server, connect, c.patient.user)
    assert (await _ask(phone, "join", appointment_id=c.appointment_id))["ok"]
    sent = await _ask(doctor, "call.offer", **ref, description=OFFER)
    assert sent == {"ok": True, "data": {"delivered": True}}
    candidate = {"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host", "sdpMid": "0"}
    assert (await _ask(patient, "call.ice", **ref, candidate=candidate))["ok"]
    await patient.until(lambda: len(patient.got(CONSULT_NS, CALL_OFFER)) == 1)
    await doctor.until(lambda: len(doctor.got(CONSULT_NS, CALL_ICE)) == 1)
    relayed = patient.got(CONSULT_NS, CALL_OFFER)[0]
    assert relayed == {"session_id": c.session_id, "from": "doctor", "description": OFFER}
    assert doctor.got(CONSULT_NS, CALL_ICE)[0]["candidate"]["candidate"] == candidate["candidate"]
    assert phone.got(CONSULT_NS, CALL_OFFER) == [] and patient.got(CONSULT_NS, CALL_ICE) == []
    assert doctor.got(CONSULT_NS, CALL_OFFER) == []

    # The phone takes over the call: the laptop is told, and can no longer signal.
    assert (
        await _ask(phone, "call.join", join_token=await _grant(live_server, c, c.patient.user))
    )["ok"]
    await patient.until(lambda: len(patient.got(CONSULT_NS, CALL_REPLACED)) == 1)
    assert _code(await _ask(patient, "call.ice", **ref, candidate=candidate)) == "not_joined"
    await doctor.until(lambda: len(doctor.got(CONSULT_NS, CALL_PEER_JOINED)) == 1)
    assert (await _ask(doctor, "call.offer", **ref, description=OFFER))["data"]["delivered"]
    await phone.until(lambda: len(phone.got(CONSULT_NS, CALL_OFFER)) == 1)


async def test_presence_news_alternate_when_a_second_device_replaces_the_first(
    live_server: LiveServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    c = await consultation(live_server.http, db, settings)
    doctor = await _in_call(live_server, connect, c, c.doctor.user)
    laptop = await _in_call(live_server, connect, c, c.patient.user)
    ref = {"session_id": c.session_id}
    assert (await _ask(doctor, "call.admit", **ref))["ok"]
    phone = await _in_call(live_server, connect, c, c.patient.user)
    await laptop.until(lambda: len(laptop.got(CONSULT_NS, CALL_REPLACED)) == 1)
    await doctor.until(lambda: len(doctor.got(CONSULT_NS, CALL_PEER_JOINED)) == 1)
    # The replaced laptop leaving says nothing (it was already gone); the phone's hang-up does.
    assert (await _ask(laptop, "leave", appointment_id=c.appointment_id))["ok"]
    assert (await _ask(phone, "call.hangup", **ref))["ok"]
    await doctor.until(lambda: len(doctor.got(CONSULT_NS, CALL_PEER_LEFT)) == 2)
    presence = [e for e in doctor.order if e in PRESENCE]
    assert presence == [CALL_WAITING, CALL_PEER_LEFT, CALL_PEER_JOINED, CALL_PEER_LEFT]
    left = doctor.got(CONSULT_NS, CALL_PEER_LEFT)
    assert [(n["role"], n["reason"]) for n in left] == [
        ("patient", "replaced"),
        ("patient", "hangup"),
    ]


async def test_media_news_reach_the_other_party_once_admitted(
    live_server: LiveServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    c = await consultation(live_server.http, db, settings)
    doctor = await _in_call(live_server, connect, c, c.doctor.user)
    patient = await _in_call(live_server, connect, c, c.patient.user)
    ref = {"session_id": c.session_id}
    paused = {"video": False, "reason": "weak_link", "quality": "poor"}
    assert _code(await _ask(patient, "call.media", **ref, **paused)) == "forbidden"
    assert (await _ask(doctor, "call.admit", **ref))["ok"]
    assert (await _ask(patient, "call.media", **ref, **paused))["data"] == {"delivered": True}
    await doctor.until(lambda: len(doctor.got(CONSULT_NS, CALL_MEDIA)) == 1)
    assert doctor.got(CONSULT_NS, CALL_MEDIA)[0] == {**ref, "from": "patient", **paused}
    for bad in ({"video": "maybe"}, {"video": True, "quality": "great"}, {"video": True, "x": 1}):
        assert _code(await _ask(patient, "call.media", **ref, **bad)) == "invalid_payload"
    assert patient.got(CONSULT_NS, CALL_MEDIA) == []


async def test_ending_the_session_tells_both_sockets_and_closes_the_call(
    live_server: LiveServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    c = await consultation(live_server.http, db, settings)
    doctor = await _in_call(live_server, connect, c, c.doctor.user)
    patient = await _in_call(live_server, connect, c, c.patient.user)
    ref = {"session_id": c.session_id}
    assert (await _ask(doctor, "call.admit", **ref))["ok"]
    response = await live_server.http.post(
        f"{SESSION_API}/{c.session_id}/end", headers=c.doctor.user.headers
    )
    assert response.status_code == 200 and response.json()["status"] == "completed"
    for probe in (doctor, patient):
        await probe.until(lambda p=probe: len(p.got(CONSULT_NS, CALL_ENDED)) == 1)  # type: ignore[misc]
        news = probe.got(CONSULT_NS, CALL_ENDED)[0]
        assert news["session_id"] == c.session_id and news["status"] == "completed"
    assert _code(await _ask(doctor, "call.offer", **ref, description=OFFER)) == "not_joined"
    rejoin = await live_server.http.get(
        f"{SESSION_API}/{c.session_id}/token", headers=c.patient.user.headers
    )
    assert rejoin.status_code == 409


async def test_a_patient_in_the_window_of_an_unconfirmed_teleconsultation_opens_it_and_waits(
    live_server: LiveServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    http = live_server.http
    doctor, patient, appointment_id = await teleconsultation_appointment(
        http, db, settings, confirm=False
    )
    body = {"appointment_id": appointment_id}
    # Two days ahead: the patient may not open it yet, and is told when it opens.
    early = await http.post(SESSION_API, json=body, headers=patient.user.headers)
    assert early.status_code == 403, early.text
    assert early.json()["type"] == "/problems/outside-join-window" and early.json()["opens_at"]
    assert await db.fetchval("SELECT count(*) FROM teleconsult.sessions") == 0

    await move_to(db, appointment_id, clock.now() + timedelta(minutes=5))  # still "scheduled"
    agenda = await connect(
        live_server, [AGENDA_NS], doctor.user.token, [(AGENDA_NS, AGENDA_WAITING)]
    )
    opened = await http.post(SESSION_API, json=body, headers=patient.user.headers)
    assert opened.status_code == 201 and opened.json()["status"] == "scheduled", opened.text
    again = await http.post(SESSION_API, json=body, headers=patient.user.headers)
    assert again.status_code == 200 and again.json()["id"] == opened.json()["id"]
    c = Consultation(doctor, patient, appointment_id, str(opened.json()["id"]))
    probe = await _socket(live_server, connect, patient.user)
    ack = await _ask(probe, "call.join", join_token=await _grant(live_server, c, patient.user))
    assert ack["ok"] and ack["data"]["admitted"] is False, ack
    # The doctor's agenda hears it from the join itself, not from any later look-up.
    await agenda.until(lambda: len(agenda.got(AGENDA_NS, AGENDA_WAITING)) == 1)
    news = agenda.got(AGENDA_NS, AGENDA_WAITING)[0]
    assert news["appointment_id"] == appointment_id and news["waiting"] is True
    assert news["session_id"] == c.session_id


async def test_the_end_reaches_a_party_who_left_the_call_and_one_who_never_entered_it(
    live_server: LiveServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    c = await consultation(live_server.http, db, settings)
    doctor = await _in_call(live_server, connect, c, c.doctor.user)
    patient = await _in_call(live_server, connect, c, c.patient.user)
    ref = {"session_id": c.session_id}
    assert (await _ask(doctor, "call.admit", **ref))["ok"]
    assert (await _ask(patient, "call.hangup", **ref))["ok"]  # out of the call, page still open
    # The patient's other device (a phone) only has the chat open.
    phone = await _socket(live_server, connect, c.patient.user)
    assert (await _ask(phone, "join", appointment_id=c.appointment_id))["ok"]
    ended = await live_server.http.post(
        f"{SESSION_API}/{c.session_id}/end", headers=c.doctor.user.headers
    )
    assert ended.status_code == 200, ended.text
    for probe in (doctor, patient, phone):
        await probe.until(lambda p=probe: len(p.got(CONSULT_NS, CALL_ENDED)) >= 1)  # type: ignore[misc]
    for probe in (doctor, patient, phone):
        news = probe.got(CONSULT_NS, CALL_ENDED)
        assert len(news) == 1, news  # once per socket, though the event goes through the bus too
        assert news[0]["appointment_id"] == c.appointment_id
        assert news[0]["session_id"] == c.session_id and news[0]["status"] == "completed"


async def test_a_session_the_system_fails_is_announced_to_the_room(
    live_server: LiveServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    c = await consultation(live_server.http, db, settings)
    patient = await _socket(live_server, connect, c.patient.user)
    assert (await _ask(patient, "join", appointment_id=c.appointment_id))["ok"]
    cancelled = await live_server.http.post(
        f"/api/v1/appointments/{c.appointment_id}/cancel",
        json={"reason": "Unwell"},
        headers=c.doctor.user.headers,
    )
    assert cancelled.status_code == 200, cancelled.text
    await patient.until(lambda: len(patient.got(CONSULT_NS, CALL_ENDED)) == 1)
    news = patient.got(CONSULT_NS, CALL_ENDED)[0]
    assert news["session_id"] == c.session_id and news["status"] == "failed"
    assert news["end_reason"] == "appointment cancelled"
