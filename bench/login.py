"""Sign-ins per second and their latency, through a real uvicorn server, with 50 clients.

Each sign-in is one argon2id verification (the deliberate cost) plus a session row and a JWT;
the refresh phase shows the same server's throughput without argon2 (one locked rotation).

Usage: /work/venv/bin/python bench/login.py [--users 50] [--clients 50] [--seconds 10]
                                            [--max-requests 5000]
(database, NATS and Redis: see bench/common.py)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/common.py

from bench.common import add_json_arg, bench_env, figure, percentile, write_json  # noqa: E402

AUTH = "/api/v1/auth"
PASSWORD = "bench passphrase 2024"


@dataclass
class Phase:
    latencies: list[float] = field(default_factory=list)
    errors: dict[int, int] = field(default_factory=dict)
    elapsed: float = 0.0

    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def p99_ms(self) -> float | None:
        return percentile(self.latencies, 0.99) * 1000 if self.latencies else None

    def report(self, name: str, clients: int) -> str:
        ok = sorted(self.latencies)
        if not ok:
            return f"{name}: no successful requests; errors {self.errors}\n"
        p50 = statistics.median(ok) * 1000
        p99 = percentile(ok, 0.99) * 1000
        return (
            f"{name}: {len(ok)} ok, {sum(self.errors.values())} failed {self.errors or ''} "
            f"in {self.elapsed:.1f}s with {clients} clients: {len(ok) / self.elapsed:,.1f} req/s, "
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms\n"
        )


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


async def bench(users: int, clients: int, seconds: float, max_requests: int) -> list[Any]:
    """Rows for --json: sign-in beside refresh-token on the same server (no argon2)."""
    # The bench measures the sign-in path, not the limiter's refusals.
    async with bench_env(clients, login_rate_limit="1000000/minute") as env:
        http = env.http
        emails = [f"bench-{i}-{uuid.uuid4().hex[:6]}@example.test" for i in range(users)]
        gate = asyncio.Semaphore(8)

        async def register(email: str) -> None:
            async with gate:
                body = {"email": email, "password": PASSWORD, "first_name": "B", "last_name": "N"}
                response = await http.post(f"{AUTH}/register", json=body)
                response.raise_for_status()

        await asyncio.gather(*(register(e) for e in emails))
        refresh_tokens: list[str] = [""] * clients

        async def login(index: int) -> int:
            email = emails[index % users]
            response = await http.post(f"{AUTH}/login", json={"email": email, "password": PASSWORD})
            if response.status_code == 200:
                refresh_tokens[index] = response.json()["refresh_token"]
            return response.status_code

        async def refresh(index: int) -> int:
            response = await http.post(
                f"{AUTH}/refresh-token", json={"refresh_token": refresh_tokens[index]}
            )
            if response.status_code == 200:
                refresh_tokens[index] = response.json()["refresh_token"]
            return response.status_code

        sys.stdout.write(f"{users} users, server on {env.node.url}, {os.cpu_count()} CPUs\n")
        logins = await run_phase(clients, seconds, max_requests, login)
        sys.stdout.write(logins.report("login", clients))
        refreshes = await run_phase(clients, seconds, max_requests, refresh)
        sys.stdout.write(refreshes.report("refresh-token", clients))
    anchor = "refresh-token on the same server (one locked rotation, no argon2)"
    return [
        figure(
            f"sign-in throughput, {clients} clients",
            logins.rate(),
            refreshes.rate(),
            "req/s",
            anchor_what=anchor,
            better="higher",
        ),
        figure("sign-in p99", logins.p99_ms(), refreshes.p99_ms(), "ms", anchor_what=anchor),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--max-requests", type=int, default=5000)
    parser.add_argument("--quick", action="store_true", help="3 s per phase")
    add_json_arg(parser)
    args = parser.parse_args()
    if args.quick:
        args.seconds = 3.0
    rows = asyncio.run(bench(args.users, args.clients, args.seconds, args.max_requests))
    write_json(args, rows)


if __name__ == "__main__":
    main()
