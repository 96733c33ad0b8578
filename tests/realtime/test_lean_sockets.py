"""The smaller Engine.IO socket (realtime/lean_sockets.py) on the lean uvicorn protocol
(server/websocket.py): same protocol as upstream, fewer objects per socket.

A bare LeanServer on a real uvicorn with short Engine.IO ping settings, so the ping paths run in
about a second: pings keep a live client open, a client that stops answering is closed, a
client upgrading from long-polling is served, and packets keep their order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import socketio
import uvicorn
import websockets

from realtime.lean_sockets import LeanServer
from server.mailbox import Gate, Mailbox
from server.websocket import WEBSOCKET_OPTIONS

pytestmark = pytest.mark.any_hour

NS = "/t"
PING_S = 1


@contextlib.asynccontextmanager
async def lean_server() -> AsyncIterator[tuple[str, LeanServer]]:
    sio = LeanServer(async_mode="asgi", ping_interval=PING_S, ping_timeout=PING_S)

    @sio.on("connect", namespace=NS)
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        return True

    @sio.on("burst", namespace=NS)
    async def burst(sid: str, count: int) -> str:
        for n in range(count):
            await sio.emit("n", n, to=sid, namespace=NS)
        return "done"

    @sio.on("environ", namespace=NS)
    async def environ(sid: str, *_: Any) -> list[str]:
        return sorted(sio.get_environ(sid, namespace=NS) or {})

    config = uvicorn.Config(
        socketio.ASGIApp(sio), log_config=None, log_level="warning", **WEBSOCKET_OPTIONS
    )
    server = uvicorn.Server(config)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        async with asyncio.timeout(30):
            while not server.started:
                await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", sio
    finally:
        await sio.shutdown()
        server.should_exit = True
        await task


async def raw_socket(url: str) -> Any:
    ws = await websockets.connect(
        url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket", ping_interval=None
    )
    opened = json.loads(str(await ws.recv())[1:])
    assert opened["pingInterval"] == PING_S * 1000  # whole seconds on the wire
    await ws.send(f"40{NS},")
    assert str(await ws.recv()).startswith(f"40{NS},")
    return ws


async def test_pings_keep_a_live_client_and_close_a_silent_one() -> None:
    async with lean_server() as (url, sio):
        live, silent = await raw_socket(url), await raw_socket(url)
        pings = 0

        async def answer_pings() -> None:
            nonlocal pings
            async for message in live:
                if message == "2":
                    pings += 1
                    await live.send("3")

        answering = asyncio.create_task(answer_pings())
        try:
            # The silent one gets its ping, does not answer, and is closed by the server.
            async with asyncio.timeout(15):
                with pytest.raises(websockets.ConnectionClosed):
                    while True:
                        await silent.recv()
            async with asyncio.timeout(15):
                while pings < 3:
                    await asyncio.sleep(0.1)
            assert live.state.name == "OPEN"
            assert len(sio.eio.sockets) == 1
        finally:
            answering.cancel()
            await live.close()


async def test_upgrade_from_polling_and_order_of_packets() -> None:
    async with lean_server() as (url, _):
        client = socketio.AsyncClient(reconnection=False)
        got: list[int] = []
        client.on("n", got.append, namespace=NS)
        await client.connect(url, namespaces=[NS], transports=["polling", "websocket"])
        try:
            async with asyncio.timeout(15):
                while client.transport() != "websocket":
                    await asyncio.sleep(0.05)
            assert await client.call("burst", 200, namespace=NS, timeout=15) == "done"
            async with asyncio.timeout(15):
                while len(got) < 200:
                    await asyncio.sleep(0.02)
            assert got == list(range(200))
        finally:
            await client.disconnect()


async def test_a_websocket_keeps_a_small_environ_with_its_scope() -> None:
    async with lean_server() as (url, _):
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(url, namespaces=[NS], transports=["websocket"])
        try:
            keys = await client.call("environ", None, namespace=NS, timeout=15)
        finally:
            await client.disconnect()
    assert "asgi.scope" in keys and "HTTP_HOST" in keys
    assert "wsgi.input" not in keys and "HTTP_USER_AGENT" not in keys


async def test_mailbox_is_a_fifo_with_join() -> None:
    box = Mailbox()
    reader = asyncio.create_task(box.get())
    await asyncio.sleep(0)
    box.put_nowait("a")
    await box.put("b")
    assert await reader == "a"
    assert box.get_nowait() == "b" and box.empty()
    with pytest.raises(asyncio.QueueEmpty):
        box.get_nowait()
    joined = asyncio.create_task(box.join())
    await asyncio.sleep(0)
    assert not joined.done()
    box.task_done()
    box.task_done()
    await asyncio.wait_for(joined, 1)


async def test_gate_wakes_its_waiters_in_order() -> None:
    gate, woken = Gate(), []

    async def waiter(n: int) -> None:
        await gate.wait()
        woken.append(n)

    tasks = [asyncio.create_task(waiter(n)) for n in range(3)]
    await asyncio.sleep(0)
    assert woken == [] and not gate.is_set()
    gate.set()
    await asyncio.gather(*tasks)
    assert woken == [0, 1, 2]
    gate.clear()
    assert not gate.is_set()
