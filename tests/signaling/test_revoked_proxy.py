"""A proxy whose link is revoked mid-call leaves the call at once, on whichever node its socket
is: the doctor hears it left, and it signals nothing more."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from realtime.protocol import CONSULT_NS, LEFT
from server import clock
from server.settings import Settings
from signaling.protocol import CALL_PEER_JOINED, CALL_PEER_LEFT, CALL_WAITING
from tests.factories import User, make_doctor, make_patient
from tests.realtime.conftest import ConnectProbe, LiveServer, StartServer
from tests.realtime.helpers import Probe
from tests.server.patients.test_relatives import URL as RELATIVES
from tests.server.patients.test_relatives import add, link
from tests.server.scheduling.helpers import (
    availability,
    booked,
    every_day,
    local,
    move_to,
    put_availability,
)
from tests.signaling.helpers import SESSION_API, open_session

pytestmark = pytest.mark.engines

EVENTS = [(CONSULT_NS, e) for e in (CALL_WAITING, CALL_PEER_JOINED, CALL_PEER_LEFT, LEFT)]
OFFER = {"type": "offer", "sdp": "v=0\r\n"}


async def _in_call(server: LiveServer, connect: ConnectProbe, session_id: str, user: User) -> Probe:
    granted = await server.http.post(f"{SESSION_API}/{session_id}/join", headers=user.headers)
    assert granted.status_code == 200, granted.text
    probe = await connect(server, [CONSULT_NS], user.token, EVENTS)
    ack = await probe.call(CONSULT_NS, "call.join", {"join_token": granted.json()["token"]})
    assert ack["ok"], ack
    return probe


async def test_a_proxy_removed_during_the_call_leaves_it_on_every_node(
    start_server: StartServer,
    connect: ConnectProbe,
    db: asyncpg.Connection,
    settings: Settings,
    redis_url: str,
) -> None:
    """The mother is in Léa's call through another node than the one handling her removal
    (the father still manages Léa): the `patient.proxy_revoked` event takes her out."""
    shared = settings.model_copy(update={"redis_url": redis_url})
    here, there = await start_server(shared), await start_server(shared)
    doctor = await make_doctor(db, settings)
    mother, father = await make_patient(db, settings), await make_patient(db, settings)
    rules = every_day(visit_type="teleconsultation")
    await put_availability(here.http, doctor, availability(rules, notice=0))
    lea = await add(here.http, mother)
    await link(db, father, lea["id"])
    visit = await booked(
        here.http,
        mother,
        doctor,
        local(doctor, 2, "10:00"),
        visit_type="teleconsultation",
        patient_id=lea["id"],
    )
    appointment_id = str(visit["id"])
    confirmed = await here.http.post(
        f"/api/v1/appointments/{appointment_id}/confirm", headers=doctor.user.headers
    )
    assert confirmed.status_code == 200, confirmed.text
    await move_to(db, appointment_id, clock.now() + timedelta(minutes=5))
    session_id = await open_session(here.http, doctor, appointment_id)
    theirs = await _in_call(here, connect, session_id, doctor.user)
    hers = await _in_call(there, connect, session_id, mother.user)
    await theirs.until(lambda: len(theirs.got(CONSULT_NS, CALL_WAITING)) == 1)
    ref = {"session_id": session_id}
    assert (await theirs.call(CONSULT_NS, "call.admit", ref))["ok"]

    removed = await here.http.delete(f"{RELATIVES}/{lea['id']}", headers=mother.user.headers)
    assert removed.status_code == 204, removed.text

    await hers.until(lambda: bool(hers.got(CONSULT_NS, LEFT)))
    assert hers.got(CONSULT_NS, LEFT) == [
        {"appointment_id": appointment_id, "reason": "access_revoked"}
    ]
    await theirs.until(lambda: bool(theirs.got(CONSULT_NS, CALL_PEER_LEFT)))
    assert theirs.got(CONSULT_NS, CALL_PEER_LEFT) == [
        {"session_id": session_id, "role": "patient", "reason": "left"}
    ]
    offer: dict[str, Any] = await hers.call(CONSULT_NS, "call.offer", {**ref, "description": OFFER})
    assert offer["error"]["code"] == "not_joined"
    assert (
        await db.fetchval("SELECT count(*) FROM teleconsult.presence WHERE role = 'patient'") == 0
    )
    # The father, who still manages Léa, may take her place.
    await _in_call(here, connect, session_id, father.user)
    await theirs.until(lambda: bool(theirs.got(CONSULT_NS, CALL_PEER_JOINED)))
