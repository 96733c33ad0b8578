"""Bad input and limits get `{ok: false, error: {code, message}}`; the socket stays usable."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import pytest
import socketio

from realtime.protocol import AVAILABILITY_NS, MAX_DOCTORS_PER_SOCKET
from server.settings import Settings
from tests.factories import make_doctor
from tests.realtime.conftest import ConnectProbe, LiveServer
from tests.server.scheduling.helpers import local

pytestmark = [pytest.mark.engines, pytest.mark.any_hour]


def _code(ack: dict[str, Any]) -> str:
    assert ack["ok"] is False, ack
    assert ack["error"]["message"]
    return str(ack["error"]["code"])


async def test_malformed_and_unknown_events_get_error_acks_and_the_socket_stays_up(
    live_server: LiveServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    probe = await connect(live_server, [AVAILABILITY_NS])
    start, end = local(doctor, 1, "08:00"), local(doctor, 1, "18:00")
    good = {"doctor_id": str(doctor.id), "from": start.isoformat(), "to": end.isoformat()}
    call = probe.call

    refusals = await asyncio.gather(
        call(AVAILABILITY_NS, "teleport", {"to": "mars"}),
        call(AVAILABILITY_NS, "subscribe", "not an object"),
        call(AVAILABILITY_NS, "subscribe", {**good, "doctor_id": "nope"}),
        call(AVAILABILITY_NS, "subscribe", {**good, "extra": 1}),
        call(AVAILABILITY_NS, "subscribe", {**good, "from": "2030-01-01T10:00:00"}),  # naive
        call(AVAILABILITY_NS, "subscribe", {**good, "from": good["to"], "to": good["from"]}),
        call(AVAILABILITY_NS, "subscribe", good, good),
        call(AVAILABILITY_NS, "subscribe"),
        call(AVAILABILITY_NS, "subscribe", {**good, "to": local(doctor, 33, "08:00").isoformat()}),
        call(AVAILABILITY_NS, "subscribe", {**good, "doctor_id": str(uuid.uuid4())}),
        call(AVAILABILITY_NS, "unsubscribe", {}),
    )

    assert [_code(a) for a in refusals] == [
        "unknown_event",
        "invalid_payload",
        "invalid_payload",
        "invalid_payload",
        "invalid_payload",
        "invalid_payload",
        "invalid_payload",
        "invalid_payload",
        "range_too_long",
        "not_found",
        "invalid_payload",
    ]
    ack = await call(AVAILABILITY_NS, "subscribe", good)
    assert ack["ok"] is True and ack["data"]["doctor_id"] == str(doctor.id)
    assert probe.client.connected


async def test_a_socket_watches_at_most_ten_doctors(
    live_server: LiveServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    doctors = [await make_doctor(db, settings) for _ in range(MAX_DOCTORS_PER_SOCKET + 1)]
    probe = await connect(live_server, [AVAILABILITY_NS])
    start, end = local(doctors[0], 1, "08:00"), local(doctors[0], 1, "18:00")

    def watch(doctor_id: uuid.UUID) -> dict[str, str]:
        return {"doctor_id": str(doctor_id), "from": start.isoformat(), "to": end.isoformat()}

    acks = [await probe.call(AVAILABILITY_NS, "subscribe", watch(d.id)) for d in doctors]

    assert all(a["ok"] for a in acks[:-1])
    assert _code(acks[-1]) == "too_many_subscriptions"
    again = await probe.call(AVAILABILITY_NS, "subscribe", watch(doctors[0].id))
    assert again["ok"], "re-subscribing a watched doctor replaces its range"
    gone = await probe.call(AVAILABILITY_NS, "unsubscribe", {"doctor_id": str(doctors[0].id)})
    assert gone == {
        "ok": True,
        "data": {"doctor_id": str(doctors[0].id), "subscribed": False, "was_subscribed": True},
    }
    assert (await probe.call(AVAILABILITY_NS, "subscribe", watch(doctors[-1].id)))["ok"]


async def test_long_polling_clients_are_served_too(
    live_server: LiveServer, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(live_server.url, namespaces=[AVAILABILITY_NS], transports=["polling"])
    try:
        start, end = local(doctor, 1, "08:00"), local(doctor, 1, "18:00")
        window = {"doctor_id": str(doctor.id), "from": start.isoformat(), "to": end.isoformat()}
        ack = await client.call("subscribe", window, namespace=AVAILABILITY_NS, timeout=15)
        assert ack["ok"] is True
    finally:
        # abort: a graceful polling disconnect waits out the pending long poll (ping interval).
        await client.eio.disconnect(abort=True)
