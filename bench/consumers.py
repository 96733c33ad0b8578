"""What the durable consumers cost PostgreSQL to catch up with N bookings (issue #19).

The bookings are made first, through the booking service in this process, with no consumer
running; the outbox is relayed to JetStream; then the consumers a node runs on booking events
(analytics, search indexer, notifications, waitlist, teleconsult sessions; payments only when a
gateway is configured) start in this process and are timed until every one has acked the whole
stream. PostgreSQL's CPU is that of the backends connected to the throw-away database
(pg_stat_activity pids, read with psutil): other databases on the server do not count. Commits
are pg_stat_database's xact_commit of that database over the same span.

Before / after: the script imports the code of the tree it sits in, so copy it into another
checkout and run it there with this venv, e.g.
  git archive <commit> | tar -x -C /tmp/before && cp bench/consumers.py /tmp/before/bench/
  .venv/bin/python /tmp/before/bench/consumers.py

Usage: .venv/bin/python bench/consumers.py [--bookings 600] [--doctors 30] [--json PATH]
(database and NATS: see bench/common.py)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/common.py

from bench.common import (  # noqa: E402
    NATS_URL,
    add_json_arg,
    backend_cpu,
    bench_database,
    every_day,
    figure,
    write_json,
)
from bus.relay import run_relay  # noqa: E402
from server import clock  # noqa: E402
from server.analytics.rollups import run_analytics_consumer  # noqa: E402
from server.auth.principal import Principal  # noqa: E402
from server.engines import Engines, open_engines  # noqa: E402
from server.notifications.consumer import run_notification_consumer  # noqa: E402
from server.payments.consumer import run_payments_consumer  # noqa: E402
from server.scheduling.availability import replace_availability  # noqa: E402
from server.scheduling.availability_schemas import AvailabilityIn  # noqa: E402
from server.scheduling.schemas import BookingRequest  # noqa: E402
from server.scheduling.service import book_appointment  # noqa: E402
from server.search.indexer import run_search_indexer  # noqa: E402
from server.search.indexing import refresh_profile  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.teleconsult.consumer import run_session_consumer  # noqa: E402
from server.waitlist.consumer import run_waitlist_consumer  # noqa: E402
from tests.conftest import delete_stream  # noqa: E402
from tests.factories import Doctor, make_doctor, make_patient  # noqa: E402

CLIENTS = 10
STATS_FLUSH_S = 11
# The consumers a node runs on booking events, by durable name (notifications and payments
# take more than the engines: started apart).
CONSUMERS = {
    "analytics": run_analytics_consumer,
    "search-indexer": run_search_indexer,
    "waitlist": run_waitlist_consumer,
    "teleconsult-sessions": run_session_consumer,
}


def _slots(doctor: Doctor, count: int) -> list[datetime]:
    """`count` distinct 15-minute slots of `doctor` between 08:00 and 20:00, from tomorrow."""
    zone = ZoneInfo(doctor.time_zone)
    day = datetime.now(zone).date() + timedelta(days=1)
    first = datetime(day.year, day.month, day.day, 8, tzinfo=zone)
    return [first + timedelta(days=i // 48, minutes=15 * (i % 48)) for i in range(count)]


async def _book(engines: Engines, db: asyncpg.Connection, bookings: int, doctors: int) -> None:
    """`bookings` bookings over `doctors` searchable doctors, each patient its own."""
    settings = engines.settings
    team = [await make_doctor(db, settings) for _ in range(doctors)]
    hours = AvailabilityIn.model_validate(every_day("08:00", "20:00", 15))
    for doctor in team:
        who = Principal(doctor.user.id, "doctor", doctor.user.session_id)
        await replace_availability(engines.pool, who, doctor.id, hours)
        async with engines.pool.acquire() as con, con.transaction():
            await refresh_profile(con, engines.pool, engines.search, doctor.id)
    per_doctor = -(-bookings // doctors)
    patients = [await make_patient(db, settings) for _ in range(bookings)]
    jobs = iter((p, team[i % doctors], i // doctors) for i, p in enumerate(patients))
    slots = {doctor.id: _slots(doctor, per_doctor) for doctor in team}

    async def worker() -> None:
        for patient, doctor, n in jobs:
            who = Principal(patient.user.id, "patient", patient.user.session_id)
            body = BookingRequest(
                doctor_id=doctor.id, start=slots[doctor.id][n], visit_type="in-person"
            )
            await book_appointment(engines, who, body)

    await asyncio.gather(*(worker() for _ in range(CLIENTS)))


async def _relay_all(engines: Engines) -> int:
    """Publish the outbox; return the stream's last sequence."""
    relay = asyncio.create_task(run_relay(engines.pool, engines.bus, clock.now, 0.05))
    try:
        while await engines.pool.fetchval(
            "SELECT count(*) FROM bus.outbox WHERE published_at IS NULL"
        ):
            await asyncio.sleep(0.05)
    finally:
        relay.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relay
    return int((await engines.bus.js.stream_info(engines.bus.stream)).state.last_seq)


class PostgresCpu:
    """CPU seconds of the backends of one database, sampled (a backend's last reading counts
    once it is gone: the pools' connections live as long as the run)."""

    def __init__(self, db: asyncpg.Connection) -> None:
        self._db = db
        self._start: dict[int, float] = {}
        self._last: dict[int, float] = {}

    async def sample(self) -> None:
        for pid, seconds in (await backend_cpu(self._db)).items():
            self._last[pid] = seconds
            self._start.setdefault(pid, seconds)

    def restart(self) -> None:
        self._start = dict(self._last)

    def seconds(self) -> float:
        return sum(self._last[pid] - self._start.get(pid, 0.0) for pid in self._last)


async def _commits(db: asyncpg.Connection) -> int:
    # PostgreSQL 15's backends flush their statistics within 10 s of going idle.
    await asyncio.sleep(STATS_FLUSH_S)
    return int(
        await db.fetchval(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        )
    )


async def _caught_up(engines: Engines, names: list[str], last_seq: int) -> bool:
    for name in names:
        try:
            info = await engines.bus.js.consumer_info(engines.bus.stream, name)
        except Exception:  # not subscribed yet
            return False
        if info.delivered is None or info.delivered.stream_seq < last_seq:
            return False
        if info.num_pending or info.num_ack_pending:
            return False
    return True


async def bench(bookings: int, doctors: int, args: argparse.Namespace) -> None:
    tag = uuid.uuid4().hex[:8]
    async with (
        bench_database(migrated=True) as dsn,
        contextlib.AsyncExitStack() as stack,
    ):
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="markini-bench-")))
        settings = Settings(
            env="test",
            data_dir=work,
            database_url=dsn,
            nats_url=NATS_URL,
            nats_stream=f"B{tag}",
            nats_subject_prefix=f"b{tag}",
            redis_url=None,
        )
        stack.push_async_callback(delete_stream, NATS_URL, settings.nats_stream)
        engines = await open_engines(settings, stack)
        db = await asyncpg.connect(dsn)
        stack.push_async_callback(db.close)
        await _book(engines, db, bookings, doctors)
        last_seq = await _relay_all(engines)
        names = [*CONSUMERS, "notifications"] + (["payments"] if engines.payments else [])
        cpu = PostgresCpu(db)
        await cpu.sample()
        cpu.restart()
        commits = await _commits(db)
        own = time.process_time()
        started = time.perf_counter()
        tasks = [asyncio.create_task(run(engines)) for run in CONSUMERS.values()]
        tasks += [
            asyncio.create_task(run_notification_consumer(engines, None)),
            asyncio.create_task(run_payments_consumer(engines)),
        ]
        while not await _caught_up(engines, names, last_seq):
            await cpu.sample()
            await asyncio.sleep(0.1)
        elapsed = time.perf_counter() - started
        await cpu.sample()
        own_s = time.process_time() - own
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        commits = await _commits(db) - commits
        pg_s = cpu.seconds()
    load = os.getloadavg()
    sys.stdout.write(
        f"{os.cpu_count()} CPUs, load {load[0]:.2f}; {bookings} bookings, {last_seq} events,"
        f" consumers: {', '.join(names)}\n"
        f"caught up in {elapsed:.2f} s; PostgreSQL CPU {pg_s:.2f} s"
        f" ({pg_s * 1000 / bookings:.2f} ms per booking); consumers' process CPU {own_s:.2f} s"
        f" ({own_s * 1000 / bookings:.2f} ms per booking); {commits} commits"
        f" ({commits / bookings:.2f} per booking)\n"
    )
    rows = [
        figure("PostgreSQL CPU per booking, consumers' catch-up", pg_s * 1000 / bookings,
               None, "ms"),
        figure("consumers' process CPU per booking", own_s * 1000 / bookings, None, "ms"),
        figure("consumers' catch-up time", elapsed, None, "s"),
        figure("commits per booking, consumers", commits / bookings, None, ""),
    ]  # fmt: skip
    write_json(args, rows, sizes={"bookings": bookings, "doctors": doctors, "events": last_seq})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=600)
    parser.add_argument("--doctors", type=int, default=30)
    add_json_arg(parser)
    args = parser.parse_args()
    asyncio.run(bench(args.bookings, args.doctors, args))


if __name__ == "__main__":
    main()
