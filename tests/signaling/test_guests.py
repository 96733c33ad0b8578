"""The third participant on /consult: the invitee waits, the doctor admits or refuses, relays
name the seat, chat from admission on, presence news, audit (docs/realtime.md, "Third
participant")."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import pytest
import socketio

from realtime.protocol import CONSULT_NS, MESSAGE
from server.settings import Settings
from signaling.protocol import (
    CALL_ADMITTED,
    CALL_ANSWER,
    CALL_ENDED,
    CALL_GUEST_WAITING,
    CALL_ICE,
    CALL_OFFER,
    CALL_PEER_JOINED,
    CALL_PEER_LEFT,
    CALL_REFUSED,
)
from tests.realtime.conftest import ConnectProbe, LiveServer
from tests.realtime.helpers import WAIT_S, Probe
from tests.signaling.helpers import SESSION_API, Consultation, consultation

pytestmark = pytest.mark.engines

EVENTS = [
    CALL_ADMITTED,
    CALL_GUEST_WAITING,
    CALL_PEER_JOINED,
    CALL_PEER_LEFT,
    CALL_REFUSED,
    CALL_OFFER,
    CALL_ANSWER,
    CALL_ICE,
    MESSAGE,
]
OFFER = {"type": "offer", "sdp": "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n"}
ANSWER = {"type": "answer", "sdp": "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\n"}


async def _party(
    server: LiveServer, connect: ConnectProbe, c: Consultation, headers: dict[str, str], token: str
) -> Probe:
    probe = await connect(server, [CONSULT_NS], token, [(CONSULT_NS, e) for e in EVENTS])
    grant = await server.http.post(f"{SESSION_API}/{c.session_id}/join", headers=headers)
    assert grant.status_code == 200, grant.text
    ack = await probe.call(CONSULT_NS, "call.join", {"join_token": grant.json()["token"]})
    assert ack["ok"], ack
    return probe


async def _guest_token(server: LiveServer, c: Consultation, headers: dict[str, str]) -> str:
    invite = await server.http.post(f"{SESSION_API}/{c.session_id}/invites", headers=headers)
    assert invite.status_code == 201, invite.text
    used = await server.http.post(
        "/api/v1/teleconsultation/invite/use",
        json={"token": invite.json()["token"], "display_name": "Lina", "role": "interpreter"},
    )
    assert used.status_code == 200, used.text
    return str(used.json()["guest_token"])


async def _guest(server: LiveServer, guest_token: str, probes: list[Probe]) -> Probe:
    probe = Probe(socketio.AsyncClient(reconnection=False))
    for event in EVENTS:
        probe.record(CONSULT_NS, event)
    await probe.client.connect(
        server.url,
        namespaces=[CONSULT_NS],
        auth={"guest_token": guest_token},
        transports=["websocket"],
        wait_timeout=WAIT_S,
    )
    probes.append(probe)
    return probe


async def _in_call(
    server: LiveServer, connect: ConnectProbe, c: Consultation
) -> tuple[Probe, Probe]:
    doctor = await _party(server, connect, c, c.doctor.user.headers, c.doctor.user.token)
    patient = await _party(server, connect, c, c.patient.user.headers, c.patient.user.token)
    admitted = await doctor.call(CONSULT_NS, "call.admit", {"session_id": c.session_id})
    assert admitted["ok"], admitted
    return doctor, patient


def _got(probe: Probe, event: str) -> list[Any]:
    return probe.got(CONSULT_NS, event)


@pytest.fixture
async def guests() -> Any:
    probes: list[Probe] = []
    yield probes
    for probe in probes:
        if probe.client.connected:
            await probe.client.disconnect()


async def test_the_doctor_admits_the_invitee_into_a_three_way_call_with_the_same_chat(
    live_server: LiveServer,
    connect: ConnectProbe,
    db: asyncpg.Connection,
    settings: Settings,
    guests: list[Probe],
) -> None:
    c = await consultation(live_server.http, db, settings)
    doctor, patient = await _in_call(live_server, connect, c)
    said = await patient.call(
        CONSULT_NS, "join", {"appointment_id": c.appointment_id}
    )  # the patient's chat, before the invitee arrives
    assert said["ok"]
    before = await patient.call(
        CONSULT_NS, MESSAGE, {"appointment_id": c.appointment_id, "body": "private: my history"}
    )
    assert before["ok"]

    guest = await _guest(
        live_server, await _guest_token(live_server, c, c.patient.user.headers), guests
    )
    token = await _guest_token_of(db, guest)
    joined = await guest.call(CONSULT_NS, "call.join", {"join_token": token})
    assert joined["ok"], joined
    data = joined["data"]
    assert data["role"] == "guest" and data["admitted"] is False and data["polite"] is True
    assert data["guest"]["display_name"] == "Lina" and data["guest"]["status"] == "waiting"
    await doctor.until(lambda: len(_got(doctor, CALL_GUEST_WAITING)) == 1)
    waiting = _got(doctor, CALL_GUEST_WAITING)[0]
    assert waiting["display_name"] == "Lina" and waiting["guest_role"] == "interpreter"
    # Before admission: no relay, no chat, and the patient heard of nobody.
    early = await guest.call(
        CONSULT_NS, CALL_OFFER, {"session_id": c.session_id, "description": OFFER, "to": "doctor"}
    )
    assert early["error"]["code"] == "forbidden"
    chat = await guest.call(CONSULT_NS, "join", {"appointment_id": c.appointment_id})
    assert chat["error"]["code"] == "not_found"
    not_doctor = await patient.call(CONSULT_NS, "call.admit_guest", {"session_id": c.session_id})
    assert not_doctor["error"]["code"] == "forbidden"
    assert _got(patient, CALL_PEER_JOINED) == []

    admit = await doctor.call(CONSULT_NS, "call.admit_guest", {"session_id": c.session_id})
    assert admit["ok"] and admit["data"]["status"] == "admitted", admit
    await guest.until(lambda: len(_got(guest, CALL_ADMITTED)) == 1)
    assert _got(guest, CALL_ADMITTED)[0]["peers"] == ["doctor", "patient"]
    await patient.until(lambda: len(_got(patient, CALL_PEER_JOINED)) == 1)
    assert _got(patient, CALL_PEER_JOINED)[0]["role"] == "guest"

    # The mesh: the guest offers to each party; each answers to the guest.
    for seat, probe in (("doctor", doctor), ("patient", patient)):
        sent = await guest.call(
            CONSULT_NS, CALL_OFFER, {"session_id": c.session_id, "description": OFFER, "to": seat}
        )
        assert sent["ok"] and sent["data"]["delivered"], sent
        await probe.until(lambda p=probe: len(_got(p, CALL_OFFER)) == 1)  # type: ignore[misc]
        assert _got(probe, CALL_OFFER)[0]["from"] == "guest"
        back = await probe.call(
            CONSULT_NS,
            CALL_ANSWER,
            {"session_id": c.session_id, "description": ANSWER, "to": "guest"},
        )
        assert back["ok"], back
    await guest.until(lambda: len(_got(guest, CALL_ANSWER)) == 2)
    assert sorted(a["from"] for a in _got(guest, CALL_ANSWER)) == ["doctor", "patient"]
    unnamed = await guest.call(
        CONSULT_NS, CALL_ICE, {"session_id": c.session_id, "candidate": None}
    )
    assert unnamed["error"]["code"] == "invalid_payload"
    # The patient <-> doctor link is untouched: no `to`, the other party.
    direct = await patient.call(
        CONSULT_NS, CALL_ICE, {"session_id": c.session_id, "candidate": None}
    )
    assert direct["data"]["delivered"]
    await doctor.until(lambda: any(i["from"] == "patient" for i in _got(doctor, CALL_ICE)))
    assert _got(guest, CALL_ICE) == []

    # The same chat, from the admission on: nothing said before.
    chat = await guest.call(CONSULT_NS, "join", {"appointment_id": c.appointment_id})
    assert chat["ok"] and chat["data"]["messages"] == [], chat
    hello = await guest.call(
        CONSULT_NS, MESSAGE, {"appointment_id": c.appointment_id, "body": "Je traduis."}
    )
    assert hello["ok"], hello
    reply = await patient.call(
        CONSULT_NS, MESSAGE, {"appointment_id": c.appointment_id, "body": "Merci"}
    )
    assert reply["ok"]
    await doctor.until(
        lambda: [m["body"] for m in _got(doctor, MESSAGE)][-2:] == ["Je traduis.", "Merci"]
    )
    await guest.until(lambda: [m["body"] for m in _got(guest, MESSAGE)] == ["Merci"])
    history = await guest.call(CONSULT_NS, "history", {"appointment_id": c.appointment_id})
    assert [m["body"] for m in history["data"]["messages"]] == ["Je traduis.", "Merci"]

    await guest.client.disconnect()
    for probe in (doctor, patient):
        await probe.until(lambda p=probe: len(_got(p, CALL_PEER_LEFT)) == 1)  # type: ignore[misc]
        assert _got(probe, CALL_PEER_LEFT)[0]["role"] == "guest"
    rows = await db.fetch(
        """SELECT action, user_id, response_status, request_payload->>'invite_id' AS invite
           FROM audit.logs WHERE action LIKE 'consultation.guest%' OR action LIKE
           'consultation.invite_%' ORDER BY append_id"""
    )
    assert [(r["action"], r["response_status"]) for r in rows] == [
        ("consultation.invite_used", 200),
        ("consultation.guest_join", 200),
        ("consultation.invite_admitted", 200),
    ]
    assert rows[1]["user_id"] is None and rows[2]["user_id"] == c.doctor.user.id


async def _guest_token_of(db: asyncpg.Connection, guest: Probe) -> str:
    """The token the probe connected with (kept by the client as its auth)."""
    auth = guest.client.connection_auth
    assert isinstance(auth, dict)
    return str(auth["guest_token"])


async def test_the_doctor_refuses_the_invitee_who_cannot_come_back(
    live_server: LiveServer,
    connect: ConnectProbe,
    db: asyncpg.Connection,
    settings: Settings,
    guests: list[Probe],
) -> None:
    c = await consultation(live_server.http, db, settings)
    doctor, _patient = await _in_call(live_server, connect, c)
    token = await _guest_token(live_server, c, c.doctor.user.headers)
    guest = await _guest(live_server, token, guests)
    assert (await guest.call(CONSULT_NS, "call.join", {"join_token": token}))["ok"]
    refused = await doctor.call(CONSULT_NS, "call.refuse_guest", {"session_id": c.session_id})
    assert refused["ok"] and refused["data"]["status"] == "refused", refused
    await guest.until(lambda: len(_got(guest, CALL_REFUSED)) == 1)
    again = await guest.call(CONSULT_NS, "call.join", {"join_token": token})
    assert again["error"]["code"] == "forbidden"
    nobody = await doctor.call(CONSULT_NS, "call.admit_guest", {"session_id": c.session_id})
    assert nobody["error"]["code"] == "conflict"
    status = await db.fetchval("SELECT status FROM teleconsult.invites")
    assert status == "refused"
    # A second invitee, still waiting, hears the end of the consultation.
    waiting_token = await _guest_token(live_server, c, c.patient.user.headers)
    waiting = await _guest(live_server, waiting_token, guests)
    waiting.record(CONSULT_NS, CALL_ENDED)
    assert (await waiting.call(CONSULT_NS, "call.join", {"join_token": waiting_token}))["ok"]
    end = await live_server.http.post(
        f"{SESSION_API}/{c.session_id}/end", headers=c.doctor.user.headers
    )
    assert end.status_code == 200
    await waiting.until(lambda: len(_got(waiting, CALL_ENDED)) == 1)
    assert _got(waiting, CALL_ENDED)[0]["session_id"] == c.session_id
    actions = await db.fetch(
        """SELECT action, response_status FROM audit.logs
           WHERE action IN ('consultation.invite_refused', 'consultation.guest_join_refused')
           ORDER BY append_id"""
    )
    assert [(r["action"], r["response_status"]) for r in actions] == [
        ("consultation.invite_refused", 200),
        ("consultation.guest_join_refused", 403),
    ]


async def test_a_guest_token_opens_only_its_own_call(
    live_server: LiveServer,
    connect: ConnectProbe,
    db: asyncpg.Connection,
    settings: Settings,
    guests: list[Probe],
) -> None:
    first = await consultation(live_server.http, db, settings)
    second = await consultation(live_server.http, db, settings)
    token = await _guest_token(live_server, first, first.doctor.user.headers)
    other = await _guest_token(live_server, second, second.doctor.user.headers)
    guest = await _guest(live_server, token, guests)
    wrong = await guest.call(CONSULT_NS, "call.join", {"join_token": other})
    assert wrong["error"]["code"] == "forbidden"
    chat = await guest.call(CONSULT_NS, "join", {"appointment_id": second.appointment_id})
    assert chat["error"]["code"] == "not_found"
    relay = await guest.call(
        CONSULT_NS,
        CALL_OFFER,
        {"session_id": second.session_id, "description": OFFER, "to": "doctor"},
    )
    assert relay["error"]["code"] == "not_joined"
    with pytest.raises(socketio.exceptions.ConnectionError):
        await _guest(live_server, token + "x", guests)
    # An access token is not a guest token, nor the reverse.
    access = Probe(socketio.AsyncClient(reconnection=False))
    with pytest.raises(socketio.exceptions.ConnectionError):
        await access.client.connect(
            live_server.url,
            namespaces=[CONSULT_NS],
            auth={"token": token},
            transports=["websocket"],
            wait_timeout=WAIT_S,
        )
    # Once the session ended, the invitee is refused.
    end = await live_server.http.post(
        f"{SESSION_API}/{first.session_id}/end", headers=first.doctor.user.headers
    )
    assert end.status_code == 200
    late = await guest.call(CONSULT_NS, "call.join", {"join_token": token})
    assert late["error"]["code"] == "conflict"
    assert uuid.UUID(first.session_id)
    assert isinstance(httpx.Response, type)


async def test_an_admitted_invitee_comes_back_with_its_guest_token_and_keeps_the_seat(
    live_server: LiveServer,
    connect: ConnectProbe,
    db: asyncpg.Connection,
    settings: Settings,
    guests: list[Probe],
) -> None:
    """docs/realtime.md "Leaving and coming back": the same guest token joins again, admitted;
    meanwhile the seat stays held (another link: invite-one-guest)."""
    c = await consultation(live_server.http, db, settings)
    doctor, _patient = await _in_call(live_server, connect, c)
    token = await _guest_token(live_server, c, c.doctor.user.headers)
    first = await _guest(live_server, token, guests)
    assert (await first.call(CONSULT_NS, "call.join", {"join_token": token}))["ok"]
    admitted = await doctor.call(CONSULT_NS, "call.admit_guest", {"session_id": c.session_id})
    assert admitted["ok"], admitted
    await first.client.disconnect()
    await doctor.until(lambda: any(e.get("role") == "guest" for e in _got(doctor, CALL_PEER_LEFT)))

    invite = await live_server.http.post(
        f"{SESSION_API}/{c.session_id}/invites", headers=c.patient.user.headers
    )
    used = await live_server.http.post(
        "/api/v1/teleconsultation/invite/use",
        json={"token": invite.json()["token"], "display_name": "Noé", "role": "carer"},
    )
    assert used.status_code == 409 and used.json()["code"] == "invite-one-guest", used.text

    again = await _guest(live_server, token, guests)
    back = await again.call(CONSULT_NS, "call.join", {"join_token": token, "resume": True})
    assert back["ok"] and back["data"]["admitted"] is True, back
    await doctor.until(
        lambda: any(
            e.get("role") == "guest" and e.get("resume") is True
            for e in _got(doctor, CALL_PEER_JOINED)
        )
    )


async def _use_new_link(server: LiveServer, c: Consultation, headers: dict[str, str]) -> int:
    invite = await server.http.post(f"{SESSION_API}/{c.session_id}/invites", headers=headers)
    used = await server.http.post(
        "/api/v1/teleconsultation/invite/use",
        json={"token": invite.json()["token"], "display_name": "Noé", "role": "carer"},
    )
    return used.status_code


async def test_an_invitee_who_hangs_up_frees_the_seat_for_a_new_link(
    live_server: LiveServer,
    connect: ConnectProbe,
    db: asyncpg.Connection,
    settings: Settings,
    guests: list[Probe],
) -> None:
    """The invitee's own call.hangup is leaving for good: the seat is free, its token is not."""
    c = await consultation(live_server.http, db, settings)
    doctor, patient = await _in_call(live_server, connect, c)
    link = await live_server.http.post(
        f"{SESSION_API}/{c.session_id}/invites", headers=c.patient.user.headers
    )
    use = {"token": link.json()["token"], "display_name": "Lina", "role": "carer"}
    used = await live_server.http.post("/api/v1/teleconsultation/invite/use", json=use)
    token = used.json()["guest_token"]
    guest = await _guest(live_server, token, guests)
    assert (await guest.call(CONSULT_NS, "call.join", {"join_token": token}))["ok"]
    assert (await doctor.call(CONSULT_NS, "call.admit_guest", {"session_id": c.session_id}))["ok"]
    await patient.until(lambda: len(_got(patient, CALL_PEER_JOINED)) == 1)

    gone = await guest.call(CONSULT_NS, "call.hangup", {"session_id": c.session_id})
    assert gone["ok"] and gone["data"]["in_call"] is False, gone
    for probe in (doctor, patient):
        await probe.until(lambda p=probe: len(_got(p, CALL_PEER_LEFT)) == 1)  # type: ignore[misc]
        left = _got(probe, CALL_PEER_LEFT)[0]
        assert left["role"] == "guest" and left["reason"] == "hangup"
    again = await guest.call(CONSULT_NS, "call.join", {"join_token": token})
    assert again["error"]["code"] == "forbidden"
    spent = await live_server.http.post("/api/v1/teleconsultation/invite/use", json=use)
    assert spent.status_code == 409 and spent.json()["code"] == "invite-used", spent.text
    assert await _use_new_link(live_server, c, c.doctor.user.headers) == 200
    statuses = await db.fetch("SELECT status FROM teleconsult.invites ORDER BY created_at")
    assert [r["status"] for r in statuses] == ["revoked", "waiting"]
    left_audit = await db.fetchrow(
        """SELECT user_id, response_status, request_payload->>'invite_id' AS invite
           FROM audit.logs WHERE action = 'consultation.invite_left'"""
    )
    assert left_audit is not None and left_audit["user_id"] is None
    assert left_audit["response_status"] == 200


async def test_the_doctor_removes_an_admitted_invitee_who_cannot_come_back(
    live_server: LiveServer,
    connect: ConnectProbe,
    db: asyncpg.Connection,
    settings: Settings,
    guests: list[Probe],
) -> None:
    c = await consultation(live_server.http, db, settings)
    doctor, patient = await _in_call(live_server, connect, c)
    assert (await patient.call(CONSULT_NS, "join", {"appointment_id": c.appointment_id}))["ok"]
    token = await _guest_token(live_server, c, c.patient.user.headers)
    guest = await _guest(live_server, token, guests)
    assert (await guest.call(CONSULT_NS, "call.join", {"join_token": token}))["ok"]
    assert (await doctor.call(CONSULT_NS, "call.admit_guest", {"session_id": c.session_id}))["ok"]
    await guest.until(lambda: len(_got(guest, CALL_ADMITTED)) == 1)
    chat = await guest.call(CONSULT_NS, "join", {"appointment_id": c.appointment_id})
    assert chat["ok"], chat

    not_patient = await patient.call(CONSULT_NS, "call.refuse_guest", {"session_id": c.session_id})
    assert not_patient["error"]["code"] == "forbidden"
    removed = await doctor.call(CONSULT_NS, "call.refuse_guest", {"session_id": c.session_id})
    assert removed["ok"] and removed["data"]["status"] == "refused", removed
    await guest.until(lambda: len(_got(guest, CALL_REFUSED)) == 1)
    await patient.until(lambda: len(_got(patient, CALL_PEER_LEFT)) == 1)
    assert _got(patient, CALL_PEER_LEFT)[0]["reason"] == "refused"
    # Out of the call and of the chat: what is said next does not reach it.
    said = await guest.call(CONSULT_NS, MESSAGE, {"appointment_id": c.appointment_id, "body": "?"})
    assert said["error"]["code"] == "not_found"
    after = await patient.call(
        CONSULT_NS, MESSAGE, {"appointment_id": c.appointment_id, "body": "after"}
    )
    assert after["ok"]
    await doctor.until(lambda: any(m["body"] == "after" for m in _got(doctor, MESSAGE)))
    assert _got(guest, MESSAGE) == []
    # The same guest token, on a new socket, is refused; the seat is free for a new link.
    back = await _guest(live_server, token, guests)
    again = await back.call(CONSULT_NS, "call.join", {"join_token": token})
    assert again["error"]["code"] == "forbidden"
    nobody = await doctor.call(CONSULT_NS, "call.refuse_guest", {"session_id": c.session_id})
    assert nobody["error"]["code"] == "conflict"
    assert await _use_new_link(live_server, c, c.patient.user.headers) == 200
    audit = await db.fetch(
        """SELECT user_id, request_payload->>'was' AS was FROM audit.logs
           WHERE action = 'consultation.invite_refused'"""
    )
    assert [(r["user_id"], r["was"]) for r in audit] == [(c.doctor.user.id, "admitted")]


async def test_the_doctor_frees_the_seat_of_an_invitee_who_dropped(
    live_server: LiveServer,
    connect: ConnectProbe,
    db: asyncpg.Connection,
    settings: Settings,
    guests: list[Probe],
) -> None:
    """A drop keeps the seat (the doctor's join ack shows it, `present: false`); the doctor may
    still free it."""
    c = await consultation(live_server.http, db, settings)
    doctor, _patient = await _in_call(live_server, connect, c)
    token = await _guest_token(live_server, c, c.doctor.user.headers)
    guest = await _guest(live_server, token, guests)
    assert (await guest.call(CONSULT_NS, "call.join", {"join_token": token}))["ok"]
    await guest.client.disconnect()
    await doctor.until(lambda: len(_got(doctor, CALL_PEER_LEFT)) == 1)
    assert await _use_new_link(live_server, c, c.patient.user.headers) == 409

    await doctor.client.disconnect()
    doctor = await connect(
        live_server, [CONSULT_NS], c.doctor.user.token, [(CONSULT_NS, e) for e in EVENTS]
    )
    grant = await live_server.http.post(
        f"{SESSION_API}/{c.session_id}/join", headers=c.doctor.user.headers
    )
    joined = await doctor.call(CONSULT_NS, "call.join", {"join_token": grant.json()["token"]})
    assert joined["ok"], joined
    held = joined["data"]["guest"]
    assert held is not None and held["present"] is False and held["status"] == "waiting"
    freed = await doctor.call(CONSULT_NS, "call.refuse_guest", {"session_id": c.session_id})
    assert freed["ok"], freed
    assert await _use_new_link(live_server, c, c.patient.user.headers) == 200
    was = await db.fetchval(
        """SELECT request_payload->>'present' FROM audit.logs
           WHERE action = 'consultation.invite_refused'"""
    )
    assert was == "false"
