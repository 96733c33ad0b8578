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

Each phase starts on a settled machine: after it, the bench waits until the outbox is empty (every
event published) and the node and this database's PostgreSQL processes are idle, and prints that
drain time and the server's and PostgreSQL's CPU per booking, the after-work (outbox relay,
realtime fan-out, consumers' catch-up) included. Otherwise the next phase, the raw-INSERT anchor
above all, was timed while PostgreSQL still worked for the previous one.

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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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
    backend_cpu,
    bench_env,
    every_day,
    figure,
    latency_figures,
    ms,
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


# The node and PostgreSQL count as idle below this share of a core over a second each.
IDLE_SHARE = 0.1
IDLE_TIMEOUT_S = 120.0


@dataclass
class Cpu:
    """CPU seconds (user + system) so far of the serve process and, per pid, of the PostgreSQL
    backends of the bench's database (not the auxiliary processes, WAL writer, checkpointer...:
    they are shared with whatever else the machine's PostgreSQL serves)."""

    server: float
    postgres: dict[int, float]

    def since(self, before: Cpu) -> tuple[float, float]:
        """Server and PostgreSQL CPU seconds from `before` to this reading (a backend that
        exited in between takes its CPU with it)."""
        postgres = sum(t - before.postgres.get(pid, 0.0) for pid, t in self.postgres.items())
        return self.server - before.server, postgres


async def _read_cpu(env: BenchEnv) -> Cpu:
    return Cpu(cpu_seconds(env.node.process.pid), await backend_cpu(env.db))


async def _idle(env: BenchEnv) -> Cpu:
    """Wait until the node and PostgreSQL each use less than IDLE_SHARE of a core over a second
    (or IDLE_TIMEOUT_S pass); the reading at the start of that quiet second."""
    deadline = time.monotonic() + IDLE_TIMEOUT_S
    while True:
        before = await _read_cpu(env)
        await asyncio.sleep(1)
        server, postgres = (await _read_cpu(env)).since(before)
        if max(server, postgres) < IDLE_SHARE:
            return before
        if time.monotonic() > deadline:
            sys.stdout.write(f"  not idle after {IDLE_TIMEOUT_S:.0f} s, measuring anyway\n")
            return before


async def _outbox_empty(env: BenchEnv) -> None:
    """Until the relay has published every event (bus.outbox published_at all set)."""
    unsent = "SELECT EXISTS (SELECT FROM bus.outbox WHERE published_at IS NULL)"
    while await env.db.fetchval(unsent):
        await asyncio.sleep(0.05)


@dataclass
class Phase:
    """One timed phase of `count` operations: its seconds, the server's, PostgreSQL's and this
    client's CPU milliseconds per operation while it ran, then the after-work: seconds from its
    end until the outbox was empty and until the machine was idle again, and the server's and
    PostgreSQL's CPU milliseconds per operation from its start until idle."""

    count: int
    seconds: float
    server_ms: float
    postgres_ms: float
    client_ms: float
    drain_s: float
    idle_s: float
    server_total_ms: float
    postgres_total_ms: float

    def after_work_line(self, per: str) -> str:
        return (
            f"  after it: outbox empty in {self.drain_s:.1f} s, idle in {self.idle_s:.1f} s;"
            f" CPU per {per} with the after-work: server {self.server_total_ms:.2f} ms,"
            f" PostgreSQL {self.postgres_total_ms:.2f} ms (while it ran: {self.server_ms:.2f}"
            f" and {self.postgres_ms:.2f} ms)\n"
        )

    def figures(self) -> dict[str, float]:
        return {k: round(v, 3) for k, v in vars(self).items()}


async def _timed(env: BenchEnv, count: int, work: Callable[[], Awaitable[None]]) -> Phase:
    """Run `work` (`count` operations) on a settled machine and wait until it is settled again."""
    await _outbox_empty(env)
    start = await _idle(env)
    own = time.process_time()
    began = time.perf_counter()
    await work()
    seconds = time.perf_counter() - began
    client_s = time.process_time() - own
    server_s, postgres_s = (await _read_cpu(env)).since(start)
    await _outbox_empty(env)
    drain_s = time.perf_counter() - began - seconds
    server_total_s, postgres_total_s = (await _idle(env)).since(start)
    per = 1000 / count
    return Phase(
        count,
        seconds,
        server_s * per,
        postgres_s * per,
        client_s * per,
        drain_s,
        time.perf_counter() - began - seconds - 1,  # less the quiet second itself
        server_total_s * per,
        postgres_total_s * per,
    )


async def _run(jobs: list[tuple[Patient, Doctor, datetime]], env: BenchEnv, clients: int) -> Phase:
    """The bookings through HTTP, timed (see Phase)."""
    queue = iter(jobs)
    failures: dict[int, int] = {}
    async with _client(env, clients) as http:

        async def worker() -> None:
            for patient, doctor, start in queue:
                status = await _book(http, patient, doctor, start)
                if status != 201:
                    failures[status] = failures.get(status, 0) + 1

        async def work() -> None:
            await asyncio.gather(*(worker() for _ in range(clients)))

        phase = await _timed(env, len(jobs), work)
    if failures:
        sys.stdout.write(f"  unexpected failures: {failures}\n")
    return phase


async def _raw_inserts(env: BenchEnv, count: int, clients: int) -> Phase:
    async with asyncpg.create_pool(env.dsn, min_size=clients, max_size=clients) as pool:
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

        async def work() -> None:
            await asyncio.gather(*(worker() for _ in range(clients)))

        return await _timed(env, count, work)


async def _service_bookings(
    env: BenchEnv, jobs: list[tuple[Patient, Doctor, datetime]], clients: int
) -> Phase:
    """`jobs` booked through the booking service in this process: no HTTP, session
    check or audit middleware (whose one hash chain serialises every audited request)."""
    async with open_pool(env.dsn, max_size=clients) as pool:
        engines = cast(Engines, SimpleNamespace(settings=env.settings, pool=pool))
        queue = iter(jobs)

        async def worker() -> None:
            for patient, doctor, start in queue:
                who = Principal(patient.user.id, "patient", patient.user.session_id)
                body = BookingRequest(doctor_id=doctor.id, start=start, visit_type="in-person")
                await book_appointment(engines, who, body)

        async def work() -> None:
            await asyncio.gather(*(worker() for _ in range(clients)))

        return await _timed(env, len(jobs), work)


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
        statuses: list[int] = []

        async def work() -> None:
            statuses.extend(await asyncio.gather(*(one(p) for p in patients)))

        phase = await _timed(env, racers, work)
    won, lost = statuses.count(201), statuses.count(409)
    sys.stdout.write(
        f"{racers}-way race for one slot: {won} booked, {lost} got 409; latency {ms(latencies)};"
        f" {_cpu_line(phase.server_ms, phase.client_ms, 'request')}\n"
    )
    return {
        "racers": racers,
        "booked": won,
        "refused_409": lost,
        **latency_figures(latencies),
        "server_cpu_ms_per_request": round(phase.server_ms, 2),
        "client_cpu_ms_per_request": round(phase.client_ms, 2),
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
        spread = await _run(jobs, env, clients)
        booking_rate = bookings / spread.seconds
        sys.stdout.write(
            f"booking, distinct slots over {doctor_count} doctors: {booking_rate:,.0f} /s;"
            f" {_cpu_line(spread.server_ms, spread.client_ms, 'booking')}\n"
            + spread.after_work_line("booking")
        )
        (one,) = await _setup_doctors(env, 1)
        solo_patients = [await env.patient() for _ in range(bookings // 3)]
        solo_jobs = [
            (p, one, s) for p, s in zip(solo_patients, _grid(one, len(solo_patients)), strict=True)
        ]
        solo = await _run(solo_jobs, env, clients)
        solo_rate = len(solo_jobs) / solo.seconds
        sys.stdout.write(
            f"booking, distinct slots of one doctor (serialised per doctor): {solo_rate:,.0f} /s"
            f" ({solo_rate / booking_rate:.2f}x the {doctor_count} doctors' rate)\n"
            + solo.after_work_line("booking")
        )
        direct = await _setup_doctors(env, doctor_count)
        direct_patients = [await env.patient() for _ in range(bookings // 2)]
        direct_jobs = [
            (p, direct[i % doctor_count], _grid(direct[i % doctor_count], per_doctor)[
                i // doctor_count])
            for i, p in enumerate(direct_patients)
        ]  # fmt: skip
        service = await _service_bookings(env, direct_jobs, clients)
        service_rate = len(direct_jobs) / service.seconds
        raw = await _raw_inserts(env, bookings, clients)
        raw_rate = bookings / raw.seconds
        sys.stdout.write(
            f"raw single-row INSERT (autocommit): {raw_rate:,.0f} /s;"
            f" PostgreSQL CPU {raw.postgres_ms:.2f} ms per INSERT (coarse: 10 ms ticks)\n"
        )
        sys.stdout.write(f"ratio booking / raw insert: {booking_rate / raw_rate:.3f} "
                         f"(1 booking ~ {raw_rate / booking_rate:.1f} raw inserts)\n")  # fmt: skip
        sys.stdout.write(
            f"booking service alone (in-process: no HTTP, session check or audit): "
            f"{service_rate:,.0f} /s, {service_rate / raw_rate:.3f}x raw insert\n"
            + service.after_work_line("booking")
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
        # No anchor: the raw INSERTs' PostgreSQL CPU is a few 10 ms clock ticks per backend.
        figure("server + PostgreSQL CPU per booking, after-work included",
               spread.server_total_ms + spread.postgres_total_ms, None, "ms"),
    ]  # fmt: skip
    write_json(
        args,
        rows,
        sizes={"bookings": bookings, "clients": clients, "doctors": doctor_count},
        server_cpu_ms_per_booking=round(spread.server_ms, 2),
        client_cpu_ms_per_booking=round(spread.client_ms, 2),
        phases={
            "distinct": spread.figures(),
            "one_doctor": solo.figures(),
            "service": service.figures(),
            "raw_insert": raw.figures(),
        },
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
