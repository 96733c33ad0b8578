"""Booking throughput on distinct slots vs raw single-row INSERTs on the same PostgreSQL, and
the latency of a 200-way race for one slot, through a real uvicorn server.

The timed requests go out through aiohttp, not the httpx client the set-up uses: on a 2-core
machine the load generator shares the cores with the server and PostgreSQL, and httpx spent
0.9-1.0 ms of CPU per request against aiohttp's 0.25 ms (same server, same requests). The
client's own CPU per request is printed beside the server's. The race's 200 connections are open
before it starts, as a browser's would be.

A booking is: the token's check, one read of the session, doctor, patient, availability stamp
and slot (the availability itself from memory under that stamp), the grid checks, then one
autocommit statement (scheduling.book_slot_audited: per-slot try-lock, per-doctor version bump
under its row lock, free check, the INSERT under two exclusion constraints, two outbox events,
the request's audit entry). The raw INSERT is one autocommit statement. A third rate books
through the booking service in this process (no HTTP, session check or audit), to tell the
booking's own cost from the HTTP stack's. In the race, the losers on the node wait for the first
booking of the slot (single-flight), then check their sessions together, and get their 409
without a booking attempt of their own.

Usage: .venv/bin/python bench/booking.py [--bookings 600] [--doctors 30] [--clients 20]
       [--json PATH]   (PATH gets the figures and their anchor as JSON)
(database and NATS: see bench/common.py)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast
from zoneinfo import ZoneInfo

import aiohttp
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
from server.auth.principal import Principal  # noqa: E402
from server.engines import Engines  # noqa: E402
from server.scheduling.schemas import BookingRequest  # noqa: E402
from server.scheduling.service import book_appointment  # noqa: E402
from storage.pool import open_pool  # noqa: E402
from tests.factories import Doctor, Patient  # noqa: E402


async def _setup_doctors(env: BenchEnv, count: int) -> list[Doctor]:
    doctors = [await env.doctor() for _ in range(count)]
    for doctor in doctors:
        response = await env.http.put(
            f"/api/v1/doctors/{doctor.id}/availability",
            json=every_day("08:00", "20:00", 15),
            headers=doctor.user.headers,
        )
        response.raise_for_status()
    return doctors


def _grid(doctor: Doctor, count: int) -> list[datetime]:
    """`count` distinct 15-minute slots of `doctor`, from tomorrow 08:00 on."""
    zone = ZoneInfo(doctor.time_zone)
    day = datetime.now(zone).date() + timedelta(days=1)
    starts: list[datetime] = []
    while len(starts) < count:
        first = datetime(day.year, day.month, day.day, 8, tzinfo=zone)
        starts += [first + timedelta(minutes=15 * i) for i in range(48)]
        day += timedelta(days=1)
    return starts[:count]


def _client(env: BenchEnv, connections: int) -> aiohttp.ClientSession:
    """The timed phases' HTTP client (see the module's docstring)."""
    return aiohttp.ClientSession(
        env.node.url, connector=aiohttp.TCPConnector(limit=connections), raise_for_status=False
    )


async def _book(
    http: aiohttp.ClientSession, patient: Patient, doctor: Doctor, start: datetime
) -> int:
    body = {"doctor_id": str(doctor.id), "start": start.isoformat(), "visit_type": "in-person"}
    async with http.post("/api/v1/appointments", json=body, headers=patient.user.headers) as r:
        await r.read()
        return r.status


def _cpu_line(server_ms: float, client_ms: float, per: str) -> str:
    return f"server CPU {server_ms:.2f} ms per {per} (client {client_ms:.2f} ms)"


async def _run(
    jobs: list[tuple[Patient, Doctor, datetime]], env: BenchEnv, clients: int
) -> tuple[float, float, float]:
    """Seconds for the bookings, and the server process's and this client's CPU milliseconds
    per booking (what a busy machine's other processes do not change much, unlike the rate)."""
    queue = iter(jobs)
    failures: dict[int, int] = {}
    async with _client(env, clients) as http:

        async def worker() -> None:
            for patient, doctor, start in queue:
                status = await _book(http, patient, doctor, start)
                if status != 201:
                    failures[status] = failures.get(status, 0) + 1

        await settled(env.node.process.pid)
        cpu, own = cpu_seconds(env.node.process.pid), time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - started
        cpu_ms = (cpu_seconds(env.node.process.pid) - cpu) * 1000 / len(jobs)
        client_ms = (time.process_time() - own) * 1000 / len(jobs)
    if failures:
        sys.stdout.write(f"  unexpected failures: {failures}\n")
    return elapsed, cpu_ms, client_ms


async def _raw_inserts(dsn: str, count: int, clients: int) -> float:
    async with asyncpg.create_pool(dsn, min_size=clients, max_size=clients) as pool:
        await pool.execute(
            """CREATE TABLE bench_raw (id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                   doctor_id uuid NOT NULL, period tstzrange NOT NULL, status text NOT NULL)"""
        )
        queue = iter(range(count))
        base = datetime.now(ZoneInfo("UTC"))

        async def worker() -> None:
            for i in queue:
                start = base + timedelta(minutes=15 * i)
                await pool.execute(
                    """INSERT INTO bench_raw (doctor_id, period, status)
                       VALUES (gen_random_uuid(), tstzrange($1, $2), 'scheduled')""",
                    start, start + timedelta(minutes=15),
                )  # fmt: skip

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return time.perf_counter() - started


async def _service_bookings(
    env: BenchEnv, jobs: list[tuple[Patient, Doctor, datetime]], clients: int
) -> float:
    """Seconds for `jobs` booked through the booking service in this process: no HTTP, session
    check or audit middleware (whose one hash chain serialises every audited request)."""
    async with open_pool(env.dsn, max_size=clients) as pool:
        engines = cast(Engines, SimpleNamespace(settings=env.settings, pool=pool))
        queue = iter(jobs)

        async def worker() -> None:
            for patient, doctor, start in queue:
                who = Principal(patient.user.id, "patient", patient.user.session_id)
                body = BookingRequest(doctor_id=doctor.id, start=start, visit_type="in-person")
                await book_appointment(engines, who, body)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return time.perf_counter() - started


async def _race(env: BenchEnv, doctor: Doctor, racers: int) -> dict[str, Any]:
    patients = [await env.patient() for _ in range(racers)]
    start = _grid(doctor, 48 * 5)[-1]  # a slot nobody took in the throughput phase
    latencies: list[float] = []
    async with _client(env, racers) as http:

        async def one(patient: Patient) -> int:
            began = time.perf_counter()
            status = await _book(http, patient, doctor, start)
            latencies.append(time.perf_counter() - began)
            return status

        # Each racer's connection is open before the start, as a browser's would be.
        await asyncio.gather(*(http.get("/healthz") for _ in range(racers)))
        await settled(env.node.process.pid)
        cpu, own = cpu_seconds(env.node.process.pid), time.process_time()
        statuses = await asyncio.gather(*(one(p) for p in patients))
        cpu_ms = (cpu_seconds(env.node.process.pid) - cpu) * 1000 / racers
        client_ms = (time.process_time() - own) * 1000 / racers
    won, lost = statuses.count(201), statuses.count(409)
    sys.stdout.write(
        f"{racers}-way race for one slot: {won} booked, {lost} got 409; latency {ms(latencies)};"
        f" {_cpu_line(cpu_ms, client_ms, 'request')}\n"
    )
    return {
        "racers": racers,
        "booked": won,
        "refused_409": lost,
        **latency_figures(latencies),
        "server_cpu_ms_per_request": round(cpu_ms, 2),
        "client_cpu_ms_per_request": round(client_ms, 2),
    }


async def bench(bookings: int, doctor_count: int, clients: int, args: argparse.Namespace) -> None:
    async with bench_env(clients=max(clients, 200)) as env:
        doctors = await _setup_doctors(env, doctor_count)
        per_doctor = -(-bookings // doctor_count)
        patients = [await env.patient() for _ in range(bookings)]
        jobs = [
            (patients[i], doctors[i % doctor_count], _grid(doctors[i % doctor_count], per_doctor)[
                i // doctor_count])
            for i in range(bookings)
        ]  # fmt: skip
        sys.stdout.write(f"{os.cpu_count()} CPUs; {bookings} bookings, {clients} clients\n")
        spread, cpu_ms, client_ms = await _run(jobs, env, clients)
        booking_rate = bookings / spread
        sys.stdout.write(
            f"booking, distinct slots over {doctor_count} doctors: {booking_rate:,.0f} /s;"
            f" {_cpu_line(cpu_ms, client_ms, 'booking')}\n"
        )
        solo = await _setup_doctors(env, 1)
        solo_patients = [await env.patient() for _ in range(bookings // 3)]
        solo_jobs = [
            (p, solo[0], s)
            for p, s in zip(solo_patients, _grid(solo[0], len(solo_patients)), strict=True)
        ]
        solo_rate = len(solo_jobs) / (await _run(solo_jobs, env, clients))[0]
        sys.stdout.write(
            f"booking, distinct slots of one doctor (serialised per doctor): {solo_rate:,.0f} /s"
            f" ({solo_rate / booking_rate:.2f}x the {doctor_count} doctors' rate)\n"
        )
        direct = await _setup_doctors(env, doctor_count)
        direct_patients = [await env.patient() for _ in range(bookings // 2)]
        direct_jobs = [
            (p, direct[i % doctor_count], _grid(direct[i % doctor_count], per_doctor)[
                i // doctor_count])
            for i, p in enumerate(direct_patients)
        ]  # fmt: skip
        service_rate = len(direct_jobs) / await _service_bookings(env, direct_jobs, clients)
        raw = await _raw_inserts(env.dsn, bookings, clients)
        raw_rate = bookings / raw
        sys.stdout.write(f"raw single-row INSERT (autocommit): {raw_rate:,.0f} /s\n")
        sys.stdout.write(f"ratio booking / raw insert: {booking_rate / raw_rate:.3f} "
                         f"(1 booking ~ {raw_rate / booking_rate:.1f} raw inserts)\n")  # fmt: skip
        sys.stdout.write(
            f"booking service alone (in-process: no HTTP, session check or audit): "
            f"{service_rate:,.0f} /s, {service_rate / raw_rate:.3f}x raw insert\n"
        )
        race = await _race(env, doctors[0], 200)
    rows = [
        figure(f"bookings/s, distinct slots, {doctor_count} doctors", booking_rate, raw_rate, "/s",
               anchor_what="raw single-row INSERT", target=">= 0.25x", better="higher"),
        figure(f"one doctor's bookings vs {doctor_count} doctors'", solo_rate, booking_rate, "/s",
               anchor_what=f"{doctor_count} doctors' rate", target=">= 0.9x", better="higher"),
        figure("booking service alone (in-process)", service_rate, raw_rate, "/s",
               anchor_what="raw single-row INSERT", better="higher"),
        figure("200-way race on one slot, p99", race["p99_ms"], None, "ms", target="< 150 ms"),
    ]  # fmt: skip
    write_json(
        args,
        rows,
        sizes={"bookings": bookings, "clients": clients, "doctors": doctor_count},
        server_cpu_ms_per_booking=round(cpu_ms, 2),
        client_cpu_ms_per_booking=round(client_ms, 2),
        race=race,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=600)
    parser.add_argument("--doctors", type=int, default=30)
    parser.add_argument("--clients", type=int, default=20)
    add_json_arg(parser)
    args = parser.parse_args()
    asyncio.run(bench(args.bookings, args.doctors, args.clients, args))


if __name__ == "__main__":
    main()
