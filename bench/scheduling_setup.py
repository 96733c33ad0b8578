"""Shared set-up of the scheduling benches: a throw-away database, a real uvicorn server in a
child process, and doctors / patients with access tokens made directly in the database.

Uses MARKINI_BENCH_DATABASE_URL or MARKINI_DATABASE_URL (an admin DSN; the throw-away database is
made beside it) or the machine's postgres@127.0.0.1:5432/test, and MARKINI_NATS_URL or
nats://127.0.0.1:4222.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests.*

from server.settings import Settings  # noqa: E402
from storage.migrate import migrate  # noqa: E402
from tests.factories import Doctor, Patient, make_doctor, make_patient  # noqa: E402

ADMIN_DSN = os.environ.get(
    "MARKINI_BENCH_DATABASE_URL",
    os.environ.get("MARKINI_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
)
NATS_URL = os.environ.get("MARKINI_NATS_URL", "nats://127.0.0.1:4222")


@dataclass
class BenchEnv:
    dsn: str
    db: asyncpg.Connection
    http: httpx.AsyncClient
    settings: Settings

    async def doctor(self, **fields: Any) -> Doctor:
        return await make_doctor(self.db, self.settings, **fields)

    async def patient(self) -> Patient:
        return await make_patient(self.db, self.settings)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def ms(values: list[float]) -> str:
    return (
        f"p50 {statistics.median(values) * 1000:.1f} ms, "
        f"p95 {percentile(values, 0.95) * 1000:.1f} ms, "
        f"p99 {percentile(values, 0.99) * 1000:.1f} ms"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _start_server(dsn: str, port: int, stream: str) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "MARKINI_ENV": "test",
        "MARKINI_DATABASE_URL": dsn,
        "MARKINI_NATS_URL": NATS_URL,
        "MARKINI_NATS_STREAM": stream,
        "MARKINI_NATS_SUBJECT_PREFIX": stream.lower(),
        "MARKINI_LOG_LEVEL": "WARNING",
        "MARKINI_DB_POOL_MAX": "20",
    }
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server.cli", "serve", "--port", str(port), env=env
    )
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            try:
                if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                    return server
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    server.terminate()
    raise RuntimeError("the server did not become ready")


async def _drop_stream(stream: str) -> None:
    import nats

    nc = await nats.connect(NATS_URL)
    try:
        await nc.jetstream().delete_stream(stream)
    except Exception:  # never created if the server failed early
        pass
    finally:
        await nc.close()


@asynccontextmanager
async def bench_env(clients: int = 200) -> AsyncIterator[BenchEnv]:
    name = f"mk_bench_{uuid.uuid4().hex[:8]}"
    dsn = ADMIN_DSN.split("?")[0].rsplit("/", 1)[0] + f"/{name}"
    stream = f"BENCH{uuid.uuid4().hex[:8].upper()}"
    admin = await asyncpg.connect(ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    server = None
    try:
        await migrate(dsn)
        port = _free_port()
        server = await _start_server(dsn, port, stream)
        db = await asyncpg.connect(dsn)
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=120
        ) as http:
            yield BenchEnv(dsn, db, http, Settings(env="test"))
        await db.close()
    finally:
        if server is not None and server.returncode is None:
            server.terminate()
            await server.wait()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        await _drop_stream(stream)


def every_day(start: str, end: str, minutes: int) -> dict[str, Any]:
    rules = [
        {"day_of_week": d, "start": start, "end": end, "slot_minutes": minutes,
         "visit_type": "in-person"}
        for d in range(1, 8)
    ]  # fmt: skip
    return {"rules": rules, "settings": {"min_notice_minutes": 0, "max_horizon_days": 120}}
