"""Two aiortc peers meet through Markini's REST join and /consult signaling, on loopback."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from server.settings import Settings
from signaling.peer import CallPeer
from signaling.peer_media import SmallVideoTrack
from signaling.protocol import (
    AGENDA_WAITING,
    CALL_ADMITTED,
    CALL_PEER_JOINED,
    CALL_PEER_LEFT,
)
from tests.realtime.conftest import ConnectProbe, LiveServer, StartServer
from tests.signaling.conftest import MakePeer
from tests.signaling.helpers import SESSION_API, consultation

pytestmark = pytest.mark.engines

AGENDA_NS = "/agenda"


async def _in_call(doctor: CallPeer, patient: CallPeer) -> None:
    await asyncio.gather(doctor.until_channel_open(), patient.until_channel_open())
    await asyncio.gather(doctor.until_media("audio"), patient.until_media("audio"))


async def test_patient_waits_doctor_admits_then_media_and_data_flow_peer_to_peer(
    live_server: LiveServer,
    connect: ConnectProbe,
    make_peer: MakePeer,
    db: asyncpg.Connection,
    settings: Settings,
) -> None:
    c = await consultation(live_server.http, db, settings)
    agenda = await connect(
        live_server, [AGENDA_NS], c.doctor.user.token, [(AGENDA_NS, AGENDA_WAITING)]
    )
    patient = make_peer(live_server.url, c.patient.user.token, c.session_id)
    doctor = make_peer(live_server.url, c.doctor.user.token, c.session_id)

    joined = await patient.join()
    assert joined["role"] == "patient" and joined["polite"] is True
    assert joined["admitted"] is False and joined["peer"]["present"] is False
    await agenda.until(lambda: len(agenda.got(AGENDA_NS, AGENDA_WAITING)) == 1)
    news = agenda.got(AGENDA_NS, AGENDA_WAITING)[0]
    assert news["waiting"] is True and news["session_id"] == c.session_id
    assert news["patient_id"] == str(c.patient.id)
    # Named in the news itself: the agenda may be showing another day.
    named = await db.fetchrow(
        "SELECT first_name, last_name FROM patients.patients WHERE id = $1", c.patient.id
    )
    assert named is not None
    assert (news["patient"]["first_name"], news["patient"]["last_name"]) == tuple(named)

    joined = await doctor.join()
    assert joined["role"] == "doctor" and joined["polite"] is False
    assert joined["peer"] == {"role": "patient", "present": True, "waiting": True}
    await doctor.admit()
    await patient.until(lambda: len(patient.got(CALL_ADMITTED)) == 1)
    await _in_call(doctor, patient)

    doctor.send_text("Bonjour, je vous entends ?")
    patient.send_text("Oui, très bien")
    await patient.until(lambda: patient.media.messages == ["Bonjour, je vous entends ?"])
    await doctor.until(lambda: doctor.media.messages == ["Oui, très bien"])
    await agenda.until(lambda: len(agenda.got(AGENDA_NS, AGENDA_WAITING)) == 2)
    assert agenda.got(AGENDA_NS, AGENDA_WAITING)[1]["waiting"] is False

    session = await live_server.http.get(
        f"{SESSION_API}/{c.session_id}", headers=c.patient.user.headers
    )
    assert session.json()["status"] == "active" and session.json()["started_at"]


async def _call_up(server: LiveServer, c: Any, make_peer: MakePeer) -> tuple[CallPeer, CallPeer]:
    patient = make_peer(server.url, c.patient.user.token, c.session_id)
    doctor = make_peer(server.url, c.doctor.user.token, c.session_id)
    await patient.join()
    await doctor.join()
    await doctor.admit()
    await _in_call(doctor, patient)
    return doctor, patient


async def test_a_patient_who_drops_rejoins_without_waiting_and_the_call_comes_back(
    live_server: LiveServer, make_peer: MakePeer, db: asyncpg.Connection, settings: Settings
) -> None:
    c = await consultation(live_server.http, db, settings)
    doctor, patient = await _call_up(live_server, c, make_peer)

    await patient.drop()  # tab crashed: no hang-up
    await doctor.until(lambda: len(doctor.got(CALL_PEER_LEFT)) == 1)
    assert doctor.got(CALL_PEER_LEFT)[0] == {
        "session_id": c.session_id,
        "role": "patient",
        "reason": "left",
    }
    assert doctor.pc is None

    back = make_peer(live_server.url, c.patient.user.token, c.session_id)
    joined = await back.join(rejoin=True)
    assert joined["admitted"] is True, "an admitted patient does not wait again"
    assert joined["peer"] == {"role": "doctor", "present": True, "waiting": False}
    await doctor.until(lambda: len(doctor.got(CALL_PEER_JOINED)) == 1)
    await _in_call(doctor, back)
    back.send_text("me revoilà")
    await doctor.until(lambda: doctor.media.messages == ["me revoilà"])
    started = await db.fetchval(
        "SELECT count(*) FROM bus.outbox WHERE type = $1", "teleconsultation.started"
    )
    assert started == 1, "a rejoin does not start the session again"


async def test_a_doctor_who_drops_rejoins_and_offers_again(
    live_server: LiveServer, make_peer: MakePeer, db: asyncpg.Connection, settings: Settings
) -> None:
    c = await consultation(live_server.http, db, settings)
    doctor, patient = await _call_up(live_server, c, make_peer)
    await doctor.drop()
    await patient.until(lambda: len(patient.got(CALL_PEER_LEFT)) == 1)
    again = make_peer(live_server.url, c.doctor.user.token, c.session_id)
    await again.join(rejoin=True)
    # Once when the doctor first came in (the patient was waiting), once now.
    await patient.until(lambda: len(patient.got(CALL_PEER_JOINED)) == 2)
    await _in_call(again, patient)


async def test_offers_colliding_resolve_with_the_polite_patient_yielding(
    live_server: LiveServer, make_peer: MakePeer, db: asyncpg.Connection, settings: Settings
) -> None:
    c = await consultation(live_server.http, db, settings)
    patient = make_peer(live_server.url, c.patient.user.token, c.session_id)
    doctor = make_peer(live_server.url, c.doctor.user.token, c.session_id)
    patient.offer_on_admit = True  # both offer at once: the offers cross in flight
    await patient.join()
    await doctor.join()
    await doctor.admit()
    await _in_call(doctor, patient)
    assert len(doctor.got("call.offer")) == 1, "the doctor received (and ignored) an offer"
    assert len(patient.got("call.offer")) == 1
    assert len(doctor.got("call.answer")) == 1 and patient.got("call.answer") == []
    patient.send_text("ok")
    await doctor.until(lambda: doctor.media.messages == ["ok"])


async def test_adding_video_mid_call_renegotiates_the_same_connection(
    live_server: LiveServer, make_peer: MakePeer, db: asyncpg.Connection, settings: Settings
) -> None:
    c = await consultation(live_server.http, db, settings)
    doctor, patient = await _call_up(live_server, c, make_peer)
    connection = patient.pc
    await doctor.renegotiate(SmallVideoTrack())
    await patient.until_media("video", 5)
    assert patient.pc is connection, "renegotiated, not reconnected"
    assert len(patient.got("call.offer")) == 2 and patient.got("call.ice")


async def test_a_call_between_parties_on_two_nodes_is_relayed_through_redis(
    start_server: StartServer,
    make_peer: MakePeer,
    db: asyncpg.Connection,
    settings: Settings,
    redis_url: str,
) -> None:
    shared = settings.model_copy(update={"redis_url": redis_url})
    node_a, node_b = await start_server(shared), await start_server(shared)
    c = await consultation(node_a.http, db, settings)
    patient = make_peer(node_a.url, c.patient.user.token, c.session_id)
    doctor = make_peer(node_b.url, c.doctor.user.token, c.session_id)
    await patient.join()
    await doctor.join()
    await doctor.admit()
    await _in_call(doctor, patient)
    doctor.send_text("d'un nœud à l'autre")
    await patient.until(lambda: patient.media.messages == ["d'un nœud à l'autre"])
