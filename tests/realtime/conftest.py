"""Real uvicorn servers on free loopback ports, and Socket.IO clients that record what they get.

`start_server(settings)` runs `uvicorn.Server(create_app(settings))` as a task of the test's
event loop (lifespan included) on a pre-bound 127.0.0.1 socket; start two with the same
settings and a Redis URL to get two nodes of one deployment.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
import socketio
import uvicorn

from realtime.hub import Realtime
from server.app import create_app
from server.http11 import UVICORN_OPTIONS
from server.settings import Settings
from tests.realtime.helpers import WAIT_S, Probe


@dataclass
class LiveServer:
    url: str
    settings: Settings
    realtime: Realtime
    http: httpx.AsyncClient


@asynccontextmanager
async def serve(settings: Settings) -> AsyncIterator[LiveServer]:
    app = create_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # A short grace: an open long poll would otherwise hold shutdown for its ping interval.
    config = uvicorn.Config(
        app,
        log_config=None,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=2,
        **UVICORN_OPTIONS,  # as `markini serve`
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(60):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("uvicorn stopped during startup")
                await asyncio.sleep(0.05)
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=url, timeout=WAIT_S) as http:
            yield LiveServer(url, settings, app.state.realtime, http)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)
        sock.close()


StartServer = Callable[[Settings], Awaitable[LiveServer]]


@pytest.fixture
async def start_server(settings: Settings) -> AsyncIterator[StartServer]:
    # Depends on `settings` so servers stop before that fixture deletes the test's stream.
    async with AsyncExitStack() as stack:

        async def start(node_settings: Settings) -> LiveServer:
            return await stack.enter_async_context(serve(node_settings))

        yield start


@pytest.fixture
async def live_server(settings: Settings, start_server: StartServer) -> LiveServer:
    return await start_server(settings)


ConnectProbe = Callable[..., Awaitable[Probe]]


@pytest.fixture
async def connect() -> AsyncIterator[ConnectProbe]:
    """`await connect(server, namespaces, token=None, events=[(ns, event), ...])`."""
    probes: list[Probe] = []

    async def open_probe(
        server: LiveServer,
        namespaces: list[str],
        token: str | None = None,
        events: list[tuple[str, str]] | None = None,
    ) -> Probe:
        probe = Probe(socketio.AsyncClient(reconnection=False))
        for namespace, event in events or []:
            probe.record(namespace, event)
        for namespace in namespaces:
            probe.record(namespace, "disconnect")
        await probe.client.connect(
            server.url,
            namespaces=namespaces,
            auth={"token": token} if token else None,
            transports=["websocket"],
            wait_timeout=WAIT_S,
        )
        probes.append(probe)
        return probe

    yield open_probe
    for probe in probes:
        if probe.client.connected:
            await probe.client.disconnect()
