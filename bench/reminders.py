"""Reminders claimed and sent per second by two worker processes, and their lag behind the due
time (p50/p99), for N reminders all due at once (a node back from a downtime, or a busy hour).

Each worker process runs the server's own loop (server.notifications.reminders.
send_due_reminders: FOR UPDATE SKIP LOCKED claim, appointment lookup, Jinja2 rendering in the
patient's language, email + SMS + in-app rows, outbox event) on its own connection. The anchor,
measured in the same run on the same rows: the bare claim (SKIP LOCKED select + status update,
no message), i.e. the ceiling the database alone allows.
Usage: .venv/bin/python bench/reminders.py [--reminders 10000] [--batch 100]
In a throw-away database (see bench/common.py).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import logging
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/common.py

from bench.common import bench_database, percentile  # noqa: E402
from server.notifications.reminders import send_due_reminders  # noqa: E402
from server.settings import Settings  # noqa: E402
from storage.pool import open_pool  # noqa: E402

WORKERS = 2
DOCTORS = 100


def _settings(dsn: str) -> Settings:
    return Settings(
        env="test",
        database_url=dsn,
        data_dir=Path(tempfile.mkdtemp(prefix="markini-bench-")),
        jwt_secret=base64.b64encode(os.urandom(48)).decode(),
        data_keys="bench:" + base64.b64encode(os.urandom(32)).decode(),
    )


async def _seed(dsn: str, count: int, due: datetime) -> None:
    """`count` appointments in two hours (one patient each, 100 doctors with 1-minute visits)
    and one reminder each, due at `due`."""
    async with open_pool(dsn, max_size=2) as pool:
        await pool.execute(
            """WITH users AS (
                   INSERT INTO auth.users (email, password_hash, role)
                   SELECT 'doctor' || i || '@bench.test', '!', 'doctor'
                   FROM generate_series(1, $1) i RETURNING id, email)
               INSERT INTO doctors.doctors (user_id, first_name, last_name, license_number,
                                            consultation_fee, verification_status)
               SELECT id, 'Claire', 'Doc' || email, 'LIC-' || email, 3000, 'verified'
               FROM users""",
            DOCTORS,
        )
        await pool.execute(
            """WITH users AS (
                   INSERT INTO auth.users (email, password_hash, role)
                   SELECT 'patient' || i || '@bench.test', '!', 'patient'
                   FROM generate_series(1, $1) i RETURNING id)
               INSERT INTO patients.patients (user_id, first_name, last_name, phone)
               SELECT id, 'Jeanne', 'Martin', '+33612345678' FROM users""",
            count,
        )
        await pool.execute(
            """WITH d AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM doctors.doctors),
                    p AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n
                          FROM patients.patients),
                    a AS (
                        INSERT INTO scheduling.appointments (id, doctor_id, patient_id, period,
                                                             visit_type, status, fee, currency)
                        SELECT gen_random_uuid(), d.id, p.id,
                               tstzrange($1::timestamptz + (p.n / $3) * interval '1 min',
                                         $1::timestamptz + (p.n / $3 + 1) * interval '1 min'),
                               'in-person', 'scheduled', 3000, 'EUR'
                        FROM p JOIN d ON d.n = p.n % $3
                        RETURNING id, lower(period) AS start_at)
               INSERT INTO notify.reminders (appointment_id, offset_minutes, due_at, starts_at)
               SELECT id, 120, $2, start_at FROM a""",
            due + timedelta(hours=2),
            due,
            DOCTORS,
        )


async def _worker(dsn: str, batch: int) -> None:
    """One worker process: says it is ready, waits for "go", then runs the server's reminder
    loop until nothing is due (start-up is left out of the figures)."""
    settings = _settings(dsn)
    handled = 0
    async with open_pool(dsn, max_size=1) as pool, pool.acquire() as con:
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        await asyncio.to_thread(sys.stdin.readline)
        while n := await send_due_reminders(con, settings, batch):
            handled += n
    sys.stdout.write(f"{handled}\n")


async def _run_workers(dsn: str, batch: int) -> tuple[float, list[int]]:
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--worker",
            dsn,
            "--batch",
            str(batch),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(WORKERS)
    ]
    for proc in procs:
        assert proc.stdout is not None
        assert (await proc.stdout.readline()).strip() == b"ready"
    async with open_pool(dsn, max_size=1) as pool:
        await pool.execute("UPDATE notify.reminders SET due_at = now()")  # due as we say go
    started = time.perf_counter()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        await proc.stdin.drain()
    outputs = [await p.communicate() for p in procs]
    elapsed = time.perf_counter() - started
    return elapsed, [int(out.decode().strip() or 0) for out, _ in outputs]


async def _bare_claims(dsn: str, batch: int) -> float:
    """The anchor: the same claim and mark, with no message, by two connections."""
    async with open_pool(dsn, max_size=WORKERS) as pool:
        await pool.execute("UPDATE notify.reminders SET status = 'pending', done_at = NULL")

        async def claim() -> None:
            async with pool.acquire() as con:
                while True:
                    async with con.transaction():
                        rows = await con.fetch(
                            """SELECT appointment_id, offset_minutes FROM notify.reminders
                               WHERE status = 'pending' AND due_at <= now()
                               ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED""",
                            batch,
                        )
                        if not rows:
                            return
                        await con.executemany(
                            """UPDATE notify.reminders SET status = 'sent', done_at = now()
                               WHERE appointment_id = $1 AND offset_minutes = $2""",
                            [tuple(r) for r in rows],
                        )

        started = time.perf_counter()
        await asyncio.gather(*(claim() for _ in range(WORKERS)))
        return time.perf_counter() - started


async def run(count: int, batch: int) -> None:
    async with bench_database(migrated=True) as dsn:
        due = datetime.now(UTC)
        await _seed(dsn, count, due)
        _, handled = await _run_workers(dsn, batch)
        async with open_pool(dsn, max_size=1) as pool:
            rows = await pool.fetch(
                "SELECT due_at, done_at FROM notify.reminders WHERE status = 'sent'"
            )
            messages = await pool.fetchval("SELECT count(*) FROM notify.messages")
            duplicates = await pool.fetchval(
                """SELECT count(*) FROM (SELECT appointment_id, channel FROM notify.messages
                   GROUP BY 1, 2 HAVING count(*) > 1) d"""
            )
        lags = [(r["done_at"] - r["due_at"]).total_seconds() for r in rows]
        # From "go" (the due instant) to the last reminder recorded: process exits left out.
        elapsed = max(lags)
        sys.stdout.write(
            f"reminders: {count} due, {WORKERS} worker processes (batch {batch}): "
            f"{len(rows) / elapsed:,.0f} claimed and sent/s ({len(rows)} in {elapsed:.2f} s; "
            f"per worker {handled}); {messages} messages queued, {duplicates} duplicates\n"
            f"lag behind the due time: p50 {percentile(lags, 0.5):.2f} s, "
            f"p99 {percentile(lags, 0.99):.2f} s, max {max(lags):.2f} s\n"
        )
        bare = await _bare_claims(dsn, batch)
        sys.stdout.write(
            f"anchor, bare claim + mark (no message) by {WORKERS} connections: "
            f"{count / bare:,.0f}/s ({bare:.2f} s); full reminders run at "
            f"{(len(rows) / elapsed) / (count / bare):.1%} of it\n"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--worker", metavar="DSN", help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.worker:
        asyncio.run(_worker(args.worker, args.batch))
    else:
        asyncio.run(run(args.reminders, args.batch))


if __name__ == "__main__":
    main()
