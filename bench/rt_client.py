"""Shared by the realtime benchmarks: server nodes as subprocesses, and a lean Socket.IO client.

The client speaks Engine.IO v4 / Socket.IO v5 over one websocket (no polling, no python-socketio
machinery), so thousands fit in the benchmark process and the figures measure the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil  # type: ignore[import-untyped]
import websockets

ROOT = Path(__file__).resolve().parent.parent
ADMIN_DSN = os.environ.get(
    "MARKINI_BENCH_DATABASE_URL",
    os.environ.get("MARKINI_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
)
NATS_URL = os.environ.get("MARKINI_NATS_URL", "nats://127.0.0.1:4222")
REDIS_URL = os.environ.get("MARKINI_REDIS_URL", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def bench_database() -> AsyncIterator[str]:
    """A throw-away database beside ADMIN_DSN (the first node to start migrates it)."""
    name = f"mk_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    base, _, query = ADMIN_DSN.partition("?")
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def node_env(database_url: str, tag: str, data_dir: Path, redis: bool) -> dict[str, str]:
    env = {
        **os.environ,
        "MARKINI_ENV": "test",
        "MARKINI_DATABASE_URL": database_url,
        "MARKINI_NATS_URL": NATS_URL,
        "MARKINI_NATS_STREAM": f"B{tag}",
        "MARKINI_NATS_SUBJECT_PREFIX": f"b{tag}",
        "MARKINI_DATA_DIR": str(data_dir),
        "MARKINI_LOG_LEVEL": "WARNING",
    }
    if redis:
        env["MARKINI_REDIS_URL"] = REDIS_URL
    else:
        env.pop("MARKINI_REDIS_URL", None)
    return env


@dataclass
class Node:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.asynccontextmanager
async def run_node(env: dict[str, str], log: Path) -> AsyncIterator[Node]:
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    node = Node(port, process)
    try:
        async with httpx.AsyncClient(base_url=node.url) as http:
            deadline = time.monotonic() + 90
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"node exited during startup, see {log}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get("/readyz")).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"node not ready in 90 s, see {log}")
                await asyncio.sleep(0.2)
        yield node
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


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


def rss_mb(pid: int) -> float:
    return float(psutil.Process(pid).memory_info().rss) / 2**20


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)
