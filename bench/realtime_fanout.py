"""Live availability at scale: sockets spread over 2 nodes (Redis) watch one doctor while
patients book. Prints delivery latency p50/p99/max from each event's occurred_at (stamped in the
booking transaction, just before commit) to its arrival at the client, and missed / duplicate
deltas (both must be 0).

Nodes are `markini serve` subprocesses sharing a throw-away PostgreSQL database, one JetStream
stream and Redis; the clients are lean websocket Socket.IO clients (bench/rt_client.py) in this
process, so a slow client loop shows up in the latency too (the figures are end to end).

Usage: /work/venv/bin/python bench/realtime_fanout.py [--sockets 1000] [--bookings 40] [--rate 10]
Engines: see bench/common.py (machine services on 127.0.0.1 by default).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/common.py

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from bench.common import NATS_URL, bench_database, node_env, percentile, run_node  # noqa: E402
from bench.rt_client import RawSocket, cpu_seconds  # noqa: E402
from server.settings import Settings  # noqa: E402
from storage.pool import _init_connection  # noqa: E402
from tests.factories import make_doctor, make_patient  # noqa: E402

NS = "/availability"
SLOT_MINUTES = 15


class Tally:
    def __init__(self) -> None:
        self.deltas: dict[int, list[tuple[int, float]]] = {}  # socket -> (version, latency s)

    def listener(self, index: int) -> Any:
        seen = self.deltas.setdefault(index, [])

        def on_event(name: str, data: Any, received_at: float) -> None:
            if name == "slot.delta":
                sent = datetime.fromisoformat(data["occurred_at"]).timestamp()
                seen.append((data["availability_version"], received_at - sent))

        return on_event

    def complete(self, expected: int) -> bool:
        return all(len(v) >= expected for v in self.deltas.values())


async def open_sockets(urls: list[str], count: int, tally: Tally) -> list[RawSocket]:
    sockets: list[RawSocket] = []
    for batch_start in range(0, count, 100):
        batch = range(batch_start, min(count, batch_start + 100))
        sockets += await asyncio.gather(
            *(RawSocket.open(urls[i % len(urls)], NS, on_event=tally.listener(i)) for i in batch)
        )
    return sockets


async def main(args: argparse.Namespace) -> None:
    async with AsyncExitStack() as stack:
        dsn = await stack.enter_async_context(bench_database())
        work = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        env = node_env(dsn, work.name[-8:].replace("_", "x"), work, redis=True)
        log = work / "nodes.log"
        nodes = [await stack.enter_async_context(run_node(env, log)) for _ in range(2)]
        urls = [n.url for n in nodes]
        # The nodes' JWT secret: generated in their data dir, read back from there.
        settings = Settings(env="test", database_url=dsn, nats_url=NATS_URL, data_dir=work)
        db = await asyncpg.connect(dsn)
        stack.push_async_callback(db.close)
        await _init_connection(db)
        doctor = await make_doctor(db, settings)
        patients = [await make_patient(db, settings) for _ in range(args.bookings)]
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=30))
        rules = [
            {
                "day_of_week": d,
                "start": "08:00",
                "end": "20:00",
                "slot_minutes": SLOT_MINUTES,
                "visit_type": "in-person",
                "location": "Cabinet",
            }
            for d in range(1, 8)
        ]
        body = {
            "rules": rules,
            "exceptions": [],
            "reasons": [],
            "settings": {"min_notice_minutes": 0, "max_horizon_days": 84, "buffer_minutes": 0},
        }
        put = await http.put(
            f"{urls[0]}/api/v1/doctors/{doctor.id}/availability",
            json=body,
            headers=doctor.user.headers,
        )
        put.raise_for_status()
        zone = ZoneInfo(doctor.time_zone)
        day = datetime.now(zone).date() + timedelta(days=2)
        start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
        window = {
            "doctor_id": str(doctor.id),
            "from": start.isoformat(),
            "to": (start + timedelta(days=1)).isoformat(),
        }

        tally = Tally()
        began = time.perf_counter()
        sockets = await open_sockets(urls, args.sockets, tally)
        snapshots = await asyncio.gather(*(s.call(NS, "subscribe", window) for s in sockets))
        connected_s = time.perf_counter() - began
        versions = {a["data"]["availability_version"] for a in snapshots if a["ok"]}
        assert len(versions) == 1 and all(a["ok"] for a in snapshots), "subscribe failed"
        base = versions.pop()

        began = time.perf_counter()
        cpu_before = [cpu_seconds(n.process.pid) for n in nodes] + [cpu_seconds(os.getpid())]
        for i, patient in enumerate(patients):
            slot = start + timedelta(hours=8, minutes=SLOT_MINUTES * i)
            response = await http.post(
                f"{urls[i % 2]}/api/v1/appointments",
                json={
                    "doctor_id": str(doctor.id),
                    "start": slot.isoformat(),
                    "visit_type": "in-person",
                },
                headers=patient.user.headers,
            )
            assert response.status_code == 201, response.text
            await asyncio.sleep(1 / args.rate)
        booking_s = time.perf_counter() - began
        deadline = time.monotonic() + 30
        while not tally.complete(args.bookings) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        cpu_after = [cpu_seconds(n.process.pid) for n in nodes] + [cpu_seconds(os.getpid())]
        cpu = [after - before for before, after in zip(cpu_before, cpu_after, strict=True)]

        expected = {base + n for n in range(1, args.bookings + 1)}
        received = [d for v in tally.deltas.values() for d in v]
        missed = sum(len(expected - {ver for ver, _ in v}) for v in tally.deltas.values())
        duplicates = sum(len(v) - len({ver for ver, _ in v}) for v in tally.deltas.values())
        latencies_ms = [lat * 1000 for _, lat in received]
        await asyncio.gather(*(s.close() for s in sockets), return_exceptions=True)

    out = sys.stdout.write
    out(f"sockets: {args.sockets} over 2 nodes (Redis manager), connected+subscribed in ")
    out(f"{connected_s:.1f} s\n")
    out(f"bookings: {args.bookings} over REST (alternating nodes) in {booking_s:.1f} s\n")
    out(f"deltas delivered: {len(received)} (expected {args.sockets * args.bookings})\n")
    out(f"missed: {missed}  duplicates: {duplicates}\n")
    out(f"CPU during bookings: node A {cpu[0]:.1f} s, node B {cpu[1]:.1f} s, ")
    out(f"clients {cpu[2]:.1f} s ({os.cpu_count()} CPUs shared with PostgreSQL, NATS, Redis)\n")
    if latencies_ms:
        out(f"latency occurred_at -> client: p50 {statistics.median(latencies_ms):.1f} ms  ")
        out(f"p99 {percentile(latencies_ms, 0.99):.1f} ms  max {max(latencies_ms):.1f} ms\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--bookings", type=int, default=40)
    parser.add_argument("--rate", type=float, default=10.0, help="bookings per second")
    asyncio.run(main(parser.parse_args()))
