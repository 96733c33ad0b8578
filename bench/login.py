"""Sign-ins per second and their latency, through a real uvicorn server, with 50 clients.

Each sign-in is one argon2id verification (the deliberate cost) plus a session row and a JWT;
the refresh phase shows the same server's throughput without argon2 (one locked rotation).

Usage: /work/venv/bin/python bench/login.py [--users 50] [--clients 50] [--seconds 10]
                                            [--max-requests 5000]
Uses MARKINI_BENCH_DATABASE_URL or MARKINI_DATABASE_URL (an admin DSN; a throw-away database is
made beside it) or the machine's postgres@127.0.0.1:5432/test; MARKINI_NATS_URL or
nats://127.0.0.1:4222; MARKINI_REDIS_URL if set (rate-limit storage).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg
import httpx

ADMIN_DSN = os.environ.get(
    "MARKINI_BENCH_DATABASE_URL",
    os.environ.get("MARKINI_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
)
NATS_URL = os.environ.get("MARKINI_NATS_URL", "nats://127.0.0.1:4222")
PASSWORD = "bench passphrase 2024"


@dataclass
class Phase:
    latencies: list[float] = field(default_factory=list)
    errors: dict[int, int] = field(default_factory=dict)
    elapsed: float = 0.0

    def report(self, name: str, clients: int) -> str:
        ok = sorted(self.latencies)
        if not ok:
            return f"{name}: no successful requests; errors {self.errors}\n"
        p50 = statistics.median(ok) * 1000
        p99 = ok[min(len(ok) - 1, int(len(ok) * 0.99))] * 1000
        return (
            f"{name}: {len(ok)} ok, {sum(self.errors.values())} failed {self.errors or ''} "
            f"in {self.elapsed:.1f}s with {clients} clients: {len(ok) / self.elapsed:,.1f} req/s, "
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms\n"
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def start_server(dsn: str, port: int, stream: str) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "MARKINI_ENV": "test",
        "MARKINI_DATABASE_URL": dsn,
        "MARKINI_NATS_URL": NATS_URL,
        "MARKINI_NATS_STREAM": stream,
        "MARKINI_NATS_SUBJECT_PREFIX": stream.lower(),
        # The bench measures the sign-in path, not the limiter's refusals.
        "MARKINI_LOGIN_RATE_LIMIT": "1000000/minute",
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


async def run_phase(
    clients: int, seconds: float, max_requests: int, call: Callable[[int], Awaitable[int]]
) -> Phase:
    phase = Phase()
    deadline = time.perf_counter() + seconds
    budget = iter(range(max_requests))

    async def worker(index: int) -> None:
        for _ in budget:
            if time.perf_counter() > deadline:
                return
            started = time.perf_counter()
            try:
                status = await call(index)
            except httpx.TransportError:
                status = 0  # connection dropped: counted as a failure, not a crash
            if status == 200:
                phase.latencies.append(time.perf_counter() - started)
            else:
                phase.errors[status] = phase.errors.get(status, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(clients)))
    phase.elapsed = time.perf_counter() - started
    return phase


async def bench(users: int, clients: int, seconds: float, max_requests: int) -> None:
    name = f"mk_bench_{uuid.uuid4().hex[:8]}"
    dsn = ADMIN_DSN.split("?")[0].rsplit("/", 1)[0] + f"/{name}"
    admin = await asyncpg.connect(ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    stream = f"BENCH{uuid.uuid4().hex[:8].upper()}"
    server = None
    try:
        port = free_port()
        server = await start_server(dsn, port, stream)
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}/api/v1/auth", limits=limits, timeout=60
        ) as http:
            emails = [f"bench-{i}-{uuid.uuid4().hex[:6]}@example.test" for i in range(users)]
            gate = asyncio.Semaphore(8)

            async def register(email: str) -> None:
                async with gate:
                    body = {
                        "email": email,
                        "password": PASSWORD,
                        "first_name": "B",
                        "last_name": "N",
                    }
                    response = await http.post("/register", json=body)
                    response.raise_for_status()

            await asyncio.gather(*(register(e) for e in emails))
            refresh_tokens: list[str] = [""] * clients

            async def login(index: int) -> int:
                email = emails[index % users]
                response = await http.post("/login", json={"email": email, "password": PASSWORD})
                if response.status_code == 200:
                    refresh_tokens[index] = response.json()["refresh_token"]
                return response.status_code

            async def refresh(index: int) -> int:
                response = await http.post(
                    "/refresh-token", json={"refresh_token": refresh_tokens[index]}
                )
                if response.status_code == 200:
                    refresh_tokens[index] = response.json()["refresh_token"]
                return response.status_code

            sys.stdout.write(f"{users} users, server on 127.0.0.1:{port}, {os.cpu_count()} CPUs\n")
            logins = await run_phase(clients, seconds, max_requests, login)
            sys.stdout.write(logins.report("login", clients))
            refreshes = await run_phase(clients, seconds, max_requests, refresh)
            sys.stdout.write(refreshes.report("refresh-token", clients))
    finally:
        if server is not None and server.returncode is None:
            server.terminate()
            await server.wait()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        await drop_stream(stream)


async def drop_stream(stream: str) -> None:
    import nats

    nc = await nats.connect(NATS_URL)
    try:
        await nc.jetstream().delete_stream(stream)
    except Exception:  # never created if the server failed early
        pass
    finally:
        await nc.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--max-requests", type=int, default=5000)
    args = parser.parse_args()
    asyncio.run(bench(args.users, args.clients, args.seconds, args.max_requests))


if __name__ == "__main__":
    main()
