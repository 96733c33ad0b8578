"""Latency of GET /api/v1/appointments/slots/available for one doctor over 4 weeks, through a
real uvicorn server: 15-minute slots 08:00-20:00 every day (~1,300 candidates), a few days off,
and ~300 appointments to subtract.

A request is one SQL statement when the doctor's availability is in the server's memory (a
snapshot of the doctor, version, availability stamp and busy periods), two when it is not; the
bench prints both statements' plans (EXPLAIN ANALYZE) before timing. The anchor is the
statements alone, timed from this process on the same database: what the server adds is Python.

Usage: .venv/bin/python bench/slots.py [--requests 300] [--clients 1] [--json PATH]
(database and NATS: see bench/common.py)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import asyncpg

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/common.py

from bench.common import (  # noqa: E402
    BenchEnv,
    add_json_arg,
    bench_env,
    every_day,
    figure,
    latency_figures,
    ms,
    settled,
    write_json,
)
from bench.rt_client import cpu_seconds  # noqa: E402
from storage.scheduling.availability import fetch_availability  # noqa: E402
from storage.scheduling.slots import slots_snapshot  # noqa: E402


class _Explained:
    """Stands in for a connection: prints the plan of each query (EXPLAIN ANALYZE), then runs it."""

    def __init__(self, con: asyncpg.Connection) -> None:
        self.con = con

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        plan = await self.con.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {query}", *args)
        sys.stdout.write("\n".join(f"    {row[0]}" for row in plan) + "\n")
        return await self.con.fetchrow(query, *args)


async def _statements(env: BenchEnv, doctor_id: uuid.UUID, start: datetime, end: datetime) -> float:
    """Print the plans of a request's statements; return the time of the two run back to back
    (ms, median of 50), the server's database share of a request with a cold cache."""
    explained = cast(Any, _Explained(env.db))
    sys.stdout.write("plan of the slots snapshot (every request):\n")
    await slots_snapshot(explained, doctor_id, start - timedelta(days=1), end + timedelta(days=1))
    sys.stdout.write("plan of the availability read (when not in the server's memory):\n")
    await fetch_availability(explained, doctor_id, start.date() - timedelta(days=1))
    times = []
    for _ in range(50):
        began = time.perf_counter()
        await slots_snapshot(env.db, doctor_id, start - timedelta(days=1), end + timedelta(days=1))
        await fetch_availability(env.db, doctor_id, start.date() - timedelta(days=1))
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


async def _doctor_with_agenda(env: BenchEnv) -> str:
    doctor = await env.doctor()
    body = every_day("08:00", "20:00", 15)
    soon = datetime.now(UTC).date() + timedelta(days=10)
    body["exceptions"] = [
        {"kind": "time-off", "start_date": soon.isoformat(),
         "end_date": (soon + timedelta(days=2)).isoformat()},
    ]  # fmt: skip
    response = await env.http.put(
        f"/api/v1/doctors/{doctor.id}/availability", json=body, headers=doctor.user.headers
    )
    response.raise_for_status()
    page = await env.http.get(
        "/api/v1/appointments/slots/available",
        params={"doctor_id": str(doctor.id), "from": datetime.now(UTC).isoformat(),
                "to": (datetime.now(UTC) + timedelta(days=28)).isoformat()},
    )  # fmt: skip
    free = page.json()["slots"]
    for slot in free[::4][:300]:  # every fourth slot booked: a busy agenda
        patient = await env.patient()
        booked = await env.http.post(
            "/api/v1/appointments",
            json={"doctor_id": str(doctor.id), "start": slot["start"], "visit_type": "in-person"},
            headers=patient.user.headers,
        )
        booked.raise_for_status()
    return str(doctor.id)


async def bench(requests: int, clients: int, args: argparse.Namespace) -> None:
    async with bench_env(clients=clients) as env:
        doctor_id = await _doctor_with_agenda(env)
        now = datetime.now(UTC)
        sql_ms = await _statements(env, uuid.UUID(doctor_id), now, now + timedelta(days=28))
        params = {
            "doctor_id": doctor_id,
            "from": datetime.now(UTC).isoformat(),
            "to": (datetime.now(UTC) + timedelta(days=28)).isoformat(),
        }
        first = await env.http.get("/api/v1/appointments/slots/available", params=params)
        first.raise_for_status()
        count = len(first.json()["slots"])
        latencies: list[float] = []
        queue = iter(range(requests))

        async def worker() -> None:
            for _ in queue:
                began = time.perf_counter()
                response = await env.http.get("/api/v1/appointments/slots/available", params=params)
                response.raise_for_status()
                latencies.append(time.perf_counter() - began)

        await settled(env.node.process.pid)
        cpu = cpu_seconds(env.node.process.pid)
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - started
        cpu_ms = (cpu_seconds(env.node.process.pid) - cpu) * 1000 / requests
        sys.stdout.write(
            f"{os.cpu_count()} CPUs; slots of one doctor over 28 days ({count} free slots), "
            f"{requests} requests, {clients} client(s): {requests / elapsed:,.0f} req/s, "
            f"{ms(latencies)}; server CPU {cpu_ms:.2f} ms per request\n"
            f"anchor: its two SQL statements alone, from here: {sql_ms:.2f} ms\n"
        )
    latency = latency_figures(latencies)
    rows = [
        figure("slots of one doctor over 4 weeks, p95", latency["p95_ms"], sql_ms, "ms",
               anchor_what="its SQL statements alone", target="< 5 ms"),
    ]  # fmt: skip
    write_json(
        args,
        rows,
        sizes={"days": 28, "free_slots": count, "requests": requests, "clients": clients},
        requests_per_s=round(requests / elapsed, 1),
        latency=latency,
        server_cpu_ms_per_request=round(cpu_ms, 2),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--clients", type=int, default=1)
    add_json_arg(parser)
    args = parser.parse_args()
    asyncio.run(bench(args.requests, args.clients, args))


if __name__ == "__main__":
    main()
