"""Socket auth: the token on connect, and sockets closed when the token expires or is revoked."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest
import socketio

import realtime.auth as realtime_auth
from realtime.protocol import (
    AGENDA_NS,
    AVAILABILITY_NS,
    CONSULT_NS,
    NOTIFICATIONS_NS,
    SESSION_ENDED,
)
from server.settings import Settings
from tests.factories import make_patient, make_user
from tests.realtime.conftest import ConnectProbe, LiveServer, StartServer
from tests.realtime.helpers import Probe

pytestmark = pytest.mark.engines

ALL = [AVAILABILITY_NS, AGENDA_NS, NOTIFICATIONS_NS, CONSULT_NS]


async def test_a_bad_token_is_refused_everywhere_and_anonymous_only_on_availability(
    live_server: LiveServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    user = await make_user(db, settings, "patient")
    await db.execute("UPDATE auth.sessions SET revoked_at = now() WHERE id = $1", user.session_id)
    forged = user.token[:-4] + ("AAAA" if not user.token.endswith("AAAA") else "BBBB")

    for namespace in ALL:
        for token in (forged, user.token, "not-a-jwt"):
            with pytest.raises(socketio.exceptions.ConnectionError):
                await connect(live_server, [namespace], token)
    for namespace in (AGENDA_NS, NOTIFICATIONS_NS, CONSULT_NS):
        with pytest.raises(socketio.exceptions.ConnectionError):
            await connect(live_server, [namespace])
    anonymous = await connect(live_server, [AVAILABILITY_NS])
    assert anonymous.client.connected


async def test_a_patient_cannot_open_an_agenda(
    live_server: LiveServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    patient = await make_patient(db, settings)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect(live_server, [AGENDA_NS], patient.user.token)
    assert (await connect(live_server, [NOTIFICATIONS_NS], patient.user.token)).client.connected


async def test_an_expiring_token_ends_its_sockets(
    start_server: StartServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    # Long enough to connect three namespaces on a loaded machine, short enough to wait out.
    short = settings.model_copy(update={"access_token_ttl_s": 6})
    server = await start_server(short)
    user = await make_user(db, short, "patient")
    namespaces = [NOTIFICATIONS_NS, CONSULT_NS, AVAILABILITY_NS]
    events = [(ns, SESSION_ENDED) for ns in namespaces]
    probe = await connect(server, namespaces, user.token, events)

    await probe.until(lambda: all(probe.got(ns, "disconnect") for ns in namespaces))

    assert [probe.got(ns, SESSION_ENDED) for ns in namespaces] == [[{"reason": "expired"}]] * 3


async def test_a_revoked_session_ends_its_sockets(
    start_server: StartServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    server = await start_server(settings.model_copy(update={"socket_session_check_s": 0.2}))
    user, other = await make_user(db, settings, "patient"), await make_user(db, settings, "patient")
    probe = await connect(
        server, [NOTIFICATIONS_NS], user.token, [(NOTIFICATIONS_NS, SESSION_ENDED)]
    )
    bystander = await connect(server, [NOTIFICATIONS_NS], other.token)

    await db.execute("UPDATE auth.sessions SET revoked_at = now() WHERE id = $1", user.session_id)

    await probe.until(lambda: bool(probe.got(NOTIFICATIONS_NS, "disconnect")))
    assert probe.got(NOTIFICATIONS_NS, SESSION_ENDED) == [{"reason": "revoked"}]
    assert bystander.client.connected


async def test_a_socket_that_connects_while_sessions_are_checked_stays_connected(
    live_server: LiveServer,
    connect: ConnectProbe,
    db: asyncpg.Connection,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    early, late = await make_user(db, settings, "patient"), await make_user(db, settings, "patient")
    await connect(live_server, [NOTIFICATIONS_NS], early.token)
    newcomers: list[Probe] = []
    asked = realtime_auth.live_session_ids

    async def answer_while_one_connects(*args: Any) -> set[uuid.UUID]:
        live = await asked(*args)
        newcomers.append(await connect(live_server, [NOTIFICATIONS_NS], late.token))
        return live

    monkeypatch.setattr(realtime_auth, "live_session_ids", answer_while_one_connects)
    watch = live_server.realtime.sessions
    assert await watch.sweep(live_server.realtime.engines) == 0
    assert [probe.client.connected for probe in newcomers] == [True]


async def test_a_patient_session_re_signed_as_a_doctor_cannot_open_that_doctors_agenda(
    live_server: LiveServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    from tests.server.auth.test_forged_tokens import resign

    patient = await make_patient(db, settings)
    doctor = await make_user(db, settings, "doctor")
    forged = resign(settings, patient.user.token, sub=str(doctor.id), role="doctor")
    token = forged["Authorization"].removeprefix("Bearer ")
    for namespace in (AGENDA_NS, NOTIFICATIONS_NS):
        with pytest.raises(socketio.exceptions.ConnectionError):
            await connect(live_server, [namespace], token)
    promoted = resign(settings, patient.user.token, role="doctor")["Authorization"][7:]
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect(live_server, [AGENDA_NS], promoted)
