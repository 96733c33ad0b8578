"""Chat across two nodes survives a Redis outage: clients catch up, nothing lost or doubled.

The test runs its own redis-server on a free loopback port, so stopping it hurts nobody else.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pytest

from bus.embedded import free_port, wait_for_port
from realtime.protocol import CONSULT_NS, MESSAGE, RESYNC
from realtime.redis_manager import ResyncingRedisManager
from server.settings import Settings
from tests.factories import make_doctor, make_patient
from tests.realtime.conftest import ConnectProbe, LiveServer, StartServer
from tests.realtime.helpers import WAIT_S, Probe
from tests.server.scheduling.helpers import availability, booked, local, put_availability

pytestmark = pytest.mark.engines


class OwnRedis:
    """A throw-away redis-server (no persistence) that the test may stop and start again."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self.binary = binary
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        await wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    redis = OwnRedis()
    yield redis
    redis.stop()


def fanout_listening(node: LiveServer) -> bool:
    manager = node.realtime.sio.manager
    assert isinstance(manager, ResyncingRedisManager)
    return manager.listening


async def until(check: Any) -> None:
    async with asyncio.timeout(WAIT_S):
        while not check():
            await asyncio.sleep(0.05)


@dataclass
class ChatView:
    """A client kept as docs/realtime.md says: live messages, and on `resync` the history."""

    probe: Probe
    appointment_id: str
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    resyncs_applied: int = 0

    async def catch_up(self) -> None:
        for message in self.probe.got(CONSULT_NS, MESSAGE):
            self.messages[message["id"]] = message
        while self.resyncs_applied < len(self.probe.got(CONSULT_NS, RESYNC)):
            self.resyncs_applied += 1
            page = await self.probe.call(
                CONSULT_NS, "history", {"appointment_id": self.appointment_id}
            )
            assert page["ok"], page
            for message in page["data"]["messages"]:
                self.messages[message["id"]] = message

    async def until_body(self, body: str) -> None:
        async with asyncio.timeout(WAIT_S):
            while True:
                self.probe.changed.clear()
                await self.catch_up()
                if body in self.bodies():
                    return
                await self.probe.changed.wait()

    def bodies(self) -> list[str]:
        return sorted(m["body"] for m in self.messages.values())


async def test_chat_across_nodes_catches_up_after_a_redis_outage_without_loss_or_doubles(
    start_server: StartServer,
    connect: ConnectProbe,
    db: asyncpg.Connection,
    settings: Settings,
    own_redis: OwnRedis,
) -> None:
    await own_redis.start()
    shared = settings.model_copy(update={"redis_url": own_redis.url})
    node_a, node_b = await start_server(shared), await start_server(shared)
    doctor, patient = await make_doctor(db, settings), await make_patient(db, settings)
    await put_availability(node_a.http, doctor, availability(notice=0))
    appointment = (await booked(node_a.http, patient, doctor, local(doctor, 2, "10:00")))["id"]
    events = [(CONSULT_NS, MESSAGE), (CONSULT_NS, RESYNC)]
    patient_socket = await connect(node_a, [CONSULT_NS], patient.user.token, events)
    doctor_socket = await connect(node_b, [CONSULT_NS], doctor.user.token, events)
    for probe in (patient_socket, doctor_socket):
        assert (await probe.call(CONSULT_NS, "join", {"appointment_id": appointment}))["ok"]
    view = ChatView(doctor_socket, appointment)

    async def say(body: str) -> dict[str, Any]:
        request = {"appointment_id": appointment, "body": body, "client_message_id": body}
        ack: dict[str, Any] = await patient_socket.call(CONSULT_NS, "message", request)
        return ack

    assert (await say("before"))["ok"]
    await view.until_body("before")

    own_redis.stop()
    await until(lambda: not fanout_listening(node_a) and not fanout_listening(node_b))
    during = await say("during")
    assert not during["ok"] and during["error"]["code"] == "internal"  # refused, not stored

    await own_redis.start()
    # Sent as soon as Redis answers, maybe before node B listens again: live, or caught up.
    async with asyncio.timeout(WAIT_S):
        while not (await say("after"))["ok"]:  # same client_message_id: retries are safe
            await asyncio.sleep(0.1)
    await view.until_body("after")
    await until(lambda: fanout_listening(node_b))
    assert (await say("later"))["ok"]
    await view.until_body("later")

    assert view.bodies() == ["after", "before", "later"]
    assert doctor_socket.got(CONSULT_NS, RESYNC) == [{"appointment_id": appointment}]
    live = [m["body"] for m in doctor_socket.got(CONSULT_NS, MESSAGE)]
    assert len(live) == len(set(live))  # none delivered twice
    assert "later" in live  # live delivery is back
