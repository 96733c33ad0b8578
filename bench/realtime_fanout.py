"""Live availability at scale: sockets spread over 2 nodes (Redis) watch one doctor while
patients book. Prints delivery latency p50/p99/max from each event's occurred_at (stamped in the
booking transaction, just before commit) to its arrival at the client, and missed / duplicate
deltas (both must be 0).

Nodes are `markini serve` subprocesses sharing a throw-away PostgreSQL database, one JetStream
stream and Redis; the clients are lean websocket Socket.IO clients (bench/rt_client.py) in this
process, so a slow client loop shows up in the latency too (the figures are end to end). That
process's own objects (the imported server stack, ~335k) are frozen out of its garbage
collector during the events, for both stacks alike: a full collection of them stalled every
client 200-380 ms and, at 1,000 sockets (p99 = the worst event or so), decided the ratio by
which run it fell in. The collector's pauses that remain are printed with each run.

Per run it also prints, as medians over the events, the first socket's latency (for Markini the
path to a node: commit, outbox relay, NATS, the node's consumer; for the bare stack, its emit
from the node's stamp) and the spread from the first socket to the last (the fan-out).

Anchor, same run, same client and counts: the bare stack (bench/bare_socketio.py: python-socketio
with its Redis manager on uvicorn, 2 nodes); the sockets join one room and the bench asks the
nodes in turn (`POST /emit`) to emit a delta of the same shape to it, latency counted from the
emitting node's clock stamp. Markini's ratio = its p99 / the bare stack's p99.

Usage: .venv/bin/python bench/realtime_fanout.py [--sockets 1000[,5000]] [--bookings 40]
       [--rate 10] [--quick] [--json PATH]
Engines: see bench/common.py (machine services on 127.0.0.1 by default).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/common.py

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from bench.common import (  # noqa: E402
    NATS_URL,
    REDIS_URL,
    add_json_arg,
    bench_database,
    figure,
    node_env,
    percentile,
    run_node,
    run_server,
    write_json,
)
from bench.rt_client import GcPauses, RawSocket, cpu_seconds  # noqa: E402
from server.settings import Settings  # noqa: E402
from storage.pool import _init_connection  # noqa: E402
from tests.factories import make_doctor, make_patient  # noqa: E402

NS = "/availability"
SLOT_MINUTES = 15
ANCHOR = "uvicorn-websockets"  # uvicorn's choice for ws="auto" with websockets installed


@dataclass
class Run:
    stack: str
    sockets: int
    bookings: int
    connected_s: float
    booking_s: float
    received: int
    missed: int
    duplicates: int
    cpu_s: list[float]  # node A, node B, this process
    client_gc_ms: list[float]  # this process's collector pauses during the events
    latencies_ms: list[float]
    versions: list[int]  # of each latency's delta

    def per_event(self) -> dict[int, list[float]]:
        """Each event's latencies (ms), by availability_version."""
        events: dict[int, list[float]] = {}
        for version, latency in zip(self.versions, self.latencies_ms, strict=True):
            events.setdefault(version, []).append(latency)
        return events

    def p(self, share: float) -> float | None:
        return percentile(self.latencies_ms, share) if self.latencies_ms else None

    def report(self) -> None:
        out = sys.stdout.write
        out(f"-- {self.stack}\n")
        out(f"sockets: {self.sockets} over 2 nodes (Redis manager), connected+subscribed in ")
        out(f"{self.connected_s:.1f} s\n")
        out(f"events: {self.bookings} (alternating nodes) in {self.booking_s:.1f} s\n")
        out(f"deltas delivered: {self.received} (expected {self.sockets * self.bookings})\n")
        out(f"missed: {self.missed}  duplicates: {self.duplicates}\n")
        cpu = self.cpu_s
        out(f"CPU during events: node A {cpu[0]:.1f} s, node B {cpu[1]:.1f} s, ")
        out(f"clients {cpu[2]:.1f} s ({os.cpu_count()} CPUs shared with PostgreSQL, NATS, Redis)\n")
        pauses = self.client_gc_ms
        out(f"clients' GC pauses during events: {len(pauses)}, total {sum(pauses):.0f} ms, ")
        out(f"longest {max(pauses, default=0):.0f} ms\n")
        if self.latencies_ms:
            p50 = statistics.median(self.latencies_ms)
            out(f"latency occurred_at -> client: p50 {p50:.1f} ms  ")
            out(f"p99 {self.p(0.99):.1f} ms  max {max(self.latencies_ms):.1f} ms\n")
            # The first socket's latency is the path to the node (for Markini: commit, relay,
            # NATS, consumer); from first to last, the fan-out over the sockets and the client.
            events = self.per_event().values()
            first = statistics.median(min(e) for e in events)
            spread = statistics.median(max(e) - min(e) for e in events)
            worst = max(statistics.median(e) for e in events)
            out(f"per event (median over events): first socket {first:.1f} ms, first to last ")
            out(f"socket {spread:.1f} ms; worst event's median {worst:.1f} ms\n")


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


async def run_markini(sockets: int, bookings: int, rate: float) -> Run:
    async with AsyncExitStack() as stack:
        dsn = await stack.enter_async_context(bench_database())
        work = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        # A small pool: the PostgreSQL is shared (its max_connections is 100 for everyone).
        env = node_env(dsn, work.name[-8:].replace("_", "x"), work, redis=True, db_pool_max="8")
        log = work / "nodes.log"
        nodes = [await stack.enter_async_context(run_node(env, log)) for _ in range(2)]
        urls = [n.url for n in nodes]
        # The nodes' JWT secret: generated in their data dir, read back from there.
        settings = Settings(env="test", database_url=dsn, nats_url=NATS_URL, data_dir=work)
        db = await asyncpg.connect(dsn)
        stack.push_async_callback(db.close)
        await _init_connection(db)
        doctor = await make_doctor(db, settings)
        patients = [await make_patient(db, settings) for _ in range(bookings)]
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

        async def book(i: int) -> None:
            slot = start + timedelta(hours=8, minutes=SLOT_MINUTES * i)
            response = await http.post(
                f"{urls[i % 2]}/api/v1/appointments",
                json={
                    "doctor_id": str(doctor.id),
                    "start": slot.isoformat(),
                    "visit_type": "in-person",
                },
                headers=patients[i].user.headers,
            )
            assert response.status_code == 201, response.text

        def base_version(acks: list[Any]) -> int:
            versions = {a["data"]["availability_version"] for a in acks if a["ok"]}
            refused = {str(a.get("error")) for a in acks if not a["ok"]}
            assert len(versions) == 1 and not refused, f"subscribe: {versions} {refused}"
            return int(versions.pop())

        try:
            return await fan_out(
                "markini", nodes, window, base_version, book, sockets, bookings, rate
            )
        except Exception:
            sys.stderr.write("".join(log.read_text().splitlines(keepends=True)[-60:]))
            raise


async def run_bare(sockets: int, bookings: int, rate: float) -> Run:
    async with AsyncExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        env = {**os.environ, "MARKINI_REDIS_URL": REDIS_URL, "BARE_TAG": uuid.uuid4().hex[:8]}
        argv = ["-m", "bench.bare_socketio", "--port", "{port}", "--server", ANCHOR]
        log = work / "bare.log"
        nodes = [await stack.enter_async_context(run_server(argv, env, log)) for _ in range(2)]
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=30))

        async def emit(i: int) -> None:
            url = f"{nodes[i % 2].url}/emit?room=doctor&version={i + 1}"
            (await http.post(url)).raise_for_status()

        return await fan_out(
            f"bare {ANCHOR}", nodes, {"room": "doctor"}, lambda _: 0, emit, sockets, bookings, rate
        )


async def fan_out(
    stack: str,
    nodes: list[Any],
    subscription: dict[str, Any],
    base_version: Any,
    make_event: Any,
    sockets: int,
    events: int,
    rate: float,
) -> Run:
    """Open `sockets` over the nodes, subscribe them, make `events` at `rate` per second with
    make_event(i), and tally what arrives (versions base+1 .. base+events expected)."""
    tally = Tally()
    began = time.perf_counter()
    opened = await open_sockets([n.url for n in nodes], sockets, tally)
    # Only the version is kept: Markini's acks carry a slot snapshot each.
    base = base_version(
        await asyncio.gather(*(s.call(NS, "subscribe", subscription) for s in opened))
    )
    connected_s = time.perf_counter() - began

    # This process's own objects (the imported server stack, the previous run's figures: ~335k)
    # out of the collector's sight during the events, for both stacks alike: unfrozen, one
    # full collection of them stalled every client 200-380 ms, in whichever run it fell.
    gc.collect()
    gc.freeze()
    began = time.perf_counter()
    cpu_before = [cpu_seconds(n.process.pid) for n in nodes] + [cpu_seconds(os.getpid())]
    try:
        with GcPauses() as client_gc:
            for i in range(events):
                await make_event(i)
                await asyncio.sleep(1 / rate)
            booking_s = time.perf_counter() - began
            deadline = time.monotonic() + 30
            while not tally.complete(events) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
    finally:
        gc.unfreeze()
    cpu_after = [cpu_seconds(n.process.pid) for n in nodes] + [cpu_seconds(os.getpid())]
    cpu = [after - before for before, after in zip(cpu_before, cpu_after, strict=True)]

    expected = {base + n for n in range(1, events + 1)}
    received = [d for v in tally.deltas.values() for d in v]
    missed = sum(len(expected - {ver for ver, _ in v}) for v in tally.deltas.values())
    duplicates = sum(len(v) - len({ver for ver, _ in v}) for v in tally.deltas.values())
    await asyncio.gather(*(s.close() for s in opened), return_exceptions=True)
    latencies_ms = [lat * 1000 for _, lat in received]
    versions = [version for version, _ in received]
    gc_ms = [pause * 1000 for pause in client_gc.pauses_s]
    return Run(
        stack, sockets, events, connected_s, booking_s, len(received), missed, duplicates, cpu,
        gc_ms, latencies_ms, versions,
    )  # fmt: skip


async def main(args: argparse.Namespace) -> None:
    out = sys.stdout.write
    load_start = os.getloadavg()
    out(f"load average at start {load_start[0]:.2f}\n")
    rows = []
    runs: list[Run] = []
    for sockets in args.sockets:
        bare = await run_bare(sockets, args.bookings, args.rate)
        bare.report()
        markini = await run_markini(sockets, args.bookings, args.rate)
        markini.report()
        runs += [bare, markini]
        now, anchor = markini.p(0.99), bare.p(0.99)
        ratio = f"{now / anchor:.2f}x" if now and anchor else "n/a"
        out(f"== {sockets} sockets: p99 markini {now or 0:.1f} ms, bare {anchor or 0:.1f} ms, ")
        out(f"ratio {ratio} (target <= 1.0x); load average now {os.getloadavg()[0]:.2f}\n")
        rows.append(
            figure(
                f"slot fan-out, {sockets:,} sockets on 2 nodes, p99",
                now,
                anchor,
                "ms",
                anchor_what=f"bare {ANCHOR} + python-socketio Redis manager, 2 nodes",
                target="<= 1.0x",
            )
        )
        if markini.missed or markini.duplicates:
            out(f"!! markini missed {markini.missed}, duplicated {markini.duplicates}\n")
    load_end = os.getloadavg()
    out(f"load average at end {load_end[0]:.2f}\n")
    write_json(
        args,
        rows,
        runs=[
            {k: v for k, v in vars(r).items() if k not in ("latencies_ms", "versions")}
            for r in runs
        ],
        loadavg_start=list(load_start),
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sockets",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1000],
        help="socket counts, comma-separated (one bare + one Markini run each)",
    )
    parser.add_argument("--bookings", type=int, default=40)
    parser.add_argument("--rate", type=float, default=10.0, help="bookings per second")
    parser.add_argument("--quick", action="store_true", help="200 sockets, 10 bookings")
    add_json_arg(parser)
    parsed = parser.parse_args()
    if parsed.quick:
        parsed.sockets, parsed.bookings = [200], 10
    asyncio.run(main(parsed))
