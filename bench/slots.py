"""Latency of GET /api/v1/appointments/slots/available for one doctor over 4 weeks, through a
real uvicorn server: 15-minute slots 08:00-20:00 every day (~1,300 candidates), a few days off,
and ~300 appointments to subtract.

Usage: /work/venv/bin/python bench/slots.py [--requests 300] [--clients 1]
(database and NATS: see bench/common.py)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/common.py

from bench.common import BenchEnv, bench_env, every_day, ms  # noqa: E402


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


async def bench(requests: int, clients: int) -> None:
    async with bench_env(clients=clients) as env:
        doctor_id = await _doctor_with_agenda(env)
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

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - started
        sys.stdout.write(
            f"{os.cpu_count()} CPUs; slots of one doctor over 28 days ({count} free slots), "
            f"{requests} requests, {clients} client(s): {requests / elapsed:,.0f} req/s, "
            f"{ms(latencies)}\n"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--clients", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(bench(args.requests, args.clients))


if __name__ == "__main__":
    main()
