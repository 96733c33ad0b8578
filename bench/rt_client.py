"""A lean Socket.IO client for the realtime benchmarks, and the node's RSS / CPU figures.

The client speaks Engine.IO v4 / Socket.IO v5 over one websocket (no polling, no python-socketio
machinery), so thousands fit in the benchmark process and the figures measure the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psutil  # type: ignore[import-untyped]
import websockets


@dataclass
class RawSocket:
    """One Socket.IO connection; `on_event(name, data, received_at)` sees every server event."""

    ws: Any
    on_event: Callable[[str, Any, float], None] | None = None
    _acks: dict[int, asyncio.Future[Any]] = field(default_factory=dict)
    _next_id: int = 0
    _reader: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls,
        base_url: str,
        namespace: str,
        token: str | None = None,
        on_event: Callable[[str, Any, float], None] | None = None,
    ) -> RawSocket:
        url = base_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        ws = await websockets.connect(url, max_size=2**20, ping_interval=None, open_timeout=60)
        opened = await ws.recv()
        assert str(opened).startswith("0"), opened
        auth = json.dumps({"token": token}) if token else ""
        await ws.send(f"40{namespace},{auth}")
        reply = str(await ws.recv())
        if not reply.startswith(f"40{namespace},"):
            raise RuntimeError(f"namespace refused: {reply}")
        sock = cls(ws, on_event)
        sock._reader = asyncio.create_task(sock._read())
        return sock

    async def call(self, namespace: str, event: str, data: Any, timeout: float = 30) -> Any:
        self._next_id += 1
        ack_id = self._next_id
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._acks[ack_id] = future
        await self.ws.send(f"42{namespace},{ack_id}" + json.dumps([event, data]))
        return await asyncio.wait_for(future, timeout)

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self.ws:
                received_at = time.time()
                message = str(raw)
                if message == "2":  # Engine.IO ping: answer or the server drops us
                    await self.ws.send("3")
                    continue
                if not message.startswith("4") or len(message) < 2:
                    continue
                kind, body = message[1], message[2:]
                if body.startswith("/"):
                    body = body.split(",", 1)[1] if "," in body else ""
                digits = len(body) - len(body.lstrip("0123456789"))
                ack_id, payload = body[:digits], json.loads(body[digits:] or "[]")
                if kind == "3" and ack_id:
                    future = self._acks.pop(int(ack_id), None)
                    if future and not future.done():
                        future.set_result(payload[0] if payload else None)
                elif kind == "2" and self.on_event is not None:
                    self.on_event(payload[0], payload[1] if len(payload) > 1 else None, received_at)

    async def close(self) -> None:
        await self.ws.close()
        if self._reader is not None:
            await self._reader


class GcPauses:
    """The cyclic garbage collector's pauses in this process while entered: the clients' loop
    stands still meanwhile, so each one delays every delta in flight (seconds, in order)."""

    def __init__(self) -> None:
        self.pauses_s: list[float] = []
        self._started = 0.0

    def _on_gc(self, phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses_s.append(time.perf_counter() - self._started)

    def __enter__(self) -> GcPauses:
        gc.callbacks.append(self._on_gc)
        return self

    def __exit__(self, *_: object) -> None:
        gc.callbacks.remove(self._on_gc)


def rss_mb(pid: int) -> float:
    """Resident memory of the process and its children (granian serves from a child)."""
    process = psutil.Process(pid)
    family = [process, *process.children(recursive=True)]
    return float(sum(p.memory_info().rss for p in family)) / 2**20


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)
