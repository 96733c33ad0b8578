"""Analytics endpoints on 1 million appointments: p50/p95 per endpoint beside two anchors
measured in the same run (a `SELECT 1` round trip on the pool, and GET /healthz through the
app), for the default 30-day range and for a full year (issue #23).

Platform figures read the rollups (server/analytics/rollups.py, migration 0026) built by
`markini analytics rebuild` after the load (timed), plus the rows of today and partial days;
each is printed beside "rows:" the SQL over the appointments the endpoints ran before the
rollups (storage/analytics.py, migration 0020), measured in the same run.
Data: 2,000 doctors in 16 cities over the specialization catalogue, 200,000 patients, 1,000,000
appointments spread over the past 650 and the next 80 days (status by age: completed, no-show,
cancelled in the past; scheduled, cancelled ahead), booked 0 to 30 days before their visit.
Usage: .venv/bin/python bench/analytics.py [--appointments 1000000] [--iterations 100]
In a throw-away database (see bench/common.py).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/common.py

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from asgi_lifespan import LifespanManager  # noqa: E402

from bench.common import NATS_URL, bench_database, ms  # noqa: E402
from server import clock  # noqa: E402
from server.analytics.rollups import rebuild  # noqa: E402
from server.app import create_app  # noqa: E402
from server.settings import Settings  # noqa: E402
from storage import analytics as store  # noqa: E402
from storage.pool import open_pool  # noqa: E402
from tests.conftest import delete_stream  # noqa: E402
from tests.factories import make_user  # noqa: E402

CHUNK = 100_000
DOCTORS = 2_000
PATIENTS = 200_000
CITIES = [
    "Paris", "Lyon", "Marseille", "Toulouse", "Nice", "Nantes", "Strasbourg", "Montpellier",
    "Bordeaux", "Lille", "Rennes", "Reims", "Toulon", "Grenoble", "London", "New York",
]  # fmt: skip


async def load(con: asyncpg.Connection, appointments: int) -> None:
    """Everything in a few set-based statements; appointment i goes to doctor i % DOCTORS at
    slot i // DOCTORS of that doctor, so no two active appointments overlap."""
    now = clock.now()
    await con.execute(
        """INSERT INTO auth.users (email, password_hash, role, is_verified)
           SELECT 'bench-doctor-' || g || '@example.test', '!unusable', 'doctor', true
           FROM generate_series(1, $1) g""",
        DOCTORS,
    )
    await con.execute(
        """INSERT INTO doctors.doctors (user_id, first_name, last_name, specializations,
                                        license_number, consultation_fee, city, postcode,
                                        latitude, longitude, time_zone, verification_status)
           SELECT u.id, 'Doc', 'Bench' || row_number() OVER (),
                  ARRAY[(SELECT array_agg(code ORDER BY code) FROM doctors.specializations)
                        [1 + (row_number() OVER ())::int % 28]],
                  'BENCH-' || u.id, 3000, ($2::text[])[1 + (row_number() OVER ())::int % 16],
                  '75001', 48.85, 2.35, 'Europe/Paris', 'verified'
           FROM auth.users u WHERE u.email LIKE 'bench-doctor-%' LIMIT $1""",
        DOCTORS,
        CITIES,
    )
    await con.execute(
        """INSERT INTO patients.patients (first_name, last_name)
           SELECT 'Pat', 'Bench' || g FROM generate_series(1, $1) g""",
        PATIENTS,
    )
    slots = appointments // DOCTORS + 1
    step = timedelta(days=730) / slots
    for chunk_start in range(0, appointments, CHUNK):
        chunk_end = min(chunk_start + CHUNK, appointments)
        await con.execute(
            """WITH d AS (SELECT array_agg(id ORDER BY id) AS ids FROM doctors.doctors),
                p AS (SELECT array_agg(id ORDER BY id) AS ids FROM patients.patients),
                raw AS (
                    SELECT g, $2::timestamptz + (g / $4) * $3::interval AS start_at,
                           hashint4(g) AS h
                    FROM generate_series($7::int, $1 - 1) g)
           INSERT INTO scheduling.appointments
               (id, doctor_id, patient_id, period, visit_type, status, fee, currency,
                created_at, cancelled_by)
           SELECT gen_random_uuid(), d.ids[1 + g % $4], p.ids[1 + g % $5],
                  tstzrange(start_at, start_at + interval '30 minutes'),
                  CASE WHEN h % 5 = 0 THEN 'teleconsultation' ELSE 'in-person' END,
                  CASE WHEN abs(h) % 100 < 12 THEN 'cancelled'
                       WHEN start_at > $6 THEN 'scheduled'
                       WHEN abs(h) % 100 < 17 THEN 'no-show'
                       ELSE 'completed' END,
                  3000, 'EUR',
                  start_at - (abs(h) % 720) * interval '1 hour',
                  CASE WHEN abs(h) % 100 < 12 THEN 'patient' END
           FROM raw, d, p""",
            chunk_end,
            now - timedelta(days=650),
            step,
            DOCTORS,
            PATIENTS,
            now,
            chunk_start,
        )
    await con.execute("VACUUM ANALYZE")


async def timed(call: Callable[[], Awaitable[Any]], iterations: int) -> list[float]:
    await call()  # warm: plans, connections
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return samples


async def main(args: argparse.Namespace) -> None:
    out = sys.stdout.write
    async with bench_database(migrated=True, keep=args.keep) as dsn:
        started = time.perf_counter()
        con = await asyncpg.connect(dsn)  # no statement timeout: the load takes minutes
        try:
            await load(con, args.appointments)
            rebuild_started = time.perf_counter()
            await rebuild(con)
            rebuilt = time.perf_counter() - rebuild_started
            admin = await make_user(con, settings_for(dsn), "admin")
            doctor_user = await con.fetchval(
                "SELECT user_id FROM doctors.doctors ORDER BY id LIMIT 1"
            )
            count = await con.fetchval("SELECT count(*) FROM scheduling.appointments")
        finally:
            await con.close()
        out(f"loaded {count:,} appointments in {time.perf_counter() - started:.0f} s")
        out(f" (rollups rebuilt in {rebuilt:.1f} s)\n")
        settings = settings_for(dsn)
        app = create_app(settings)
        async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                async with open_pool(dsn, 2) as anchor_pool:
                    select1 = await timed(lambda: anchor_pool.fetchval("SELECT 1"), 500)
                out(f"{'anchor: SELECT 1 round trip':<46}{ms(select1)}\n")
                healthz = await timed(lambda: client.get("/healthz"), 500)
                out(f"{'anchor: GET /healthz (app, no SQL)':<46}{ms(healthz)}\n")
                doctor = await _doctor_headers(dsn, settings, doctor_user)
                today = clock.now().date()
                ranges = {
                    "30 days": {},
                    "365 days": {
                        "from": (today - timedelta(days=364)).isoformat(),
                        "to": today.isoformat(),
                    },
                }
                for span, params in ranges.items():
                    for who, headers, paths in (
                        ("admin", admin.headers, PLATFORM),
                        ("doctor", doctor, OWN),
                    ):
                        for path in paths:
                            url = f"/api/v1/analytics/{path}"

                            async def call(
                                url: str = url, params: Any = params, h: Any = headers
                            ) -> None:
                                answer = await client.get(url, params=params, headers=h)
                                assert answer.status_code == 200, answer.text

                            samples = await timed(call, args.iterations)
                            out(f"{f'{who} {path} ({span})':<46}{ms(samples)}\n")
                            rows = ROWS.get(path) if who == "admin" else None
                            if rows is not None:
                                before = await _rows_timed(dsn, rows, params, args.iterations)
                                out(f"{f'  rows: {path} ({span})':<46}{ms(before)}\n")
        await delete_stream(NATS_URL, settings.nats_stream)


async def _busiest_rows(con: asyncpg.Connection, start: Any, end: Any, _: str) -> None:
    await store.busiest_specialties(con, start, end, 10)
    await store.busiest_cities(con, start, end, 10)


# The platform figures as the endpoints computed them before the rollups: SQL over the rows.
ROWS: dict[str, Callable[[asyncpg.Connection, Any, Any, str], Awaitable[Any]]] = {
    "bookings-per-day": lambda con, a, b, tz: store.bookings_per_day(con, a, b, tz, None),
    "outcomes": lambda con, a, b, _: store.outcomes(con, a, b, clock.now(), None),
    "busiest": _busiest_rows,
    "lead-time": lambda con, a, b, _: store.lead_time(con, a, b, None),
}


async def _rows_timed(
    dsn: str,
    figure: Callable[[asyncpg.Connection, Any, Any, str], Awaitable[Any]],
    params: dict[str, str],
    iterations: int,
) -> list[float]:
    today = clock.now().date()
    last = date.fromisoformat(params["to"]) if "to" in params else today
    first = date.fromisoformat(params["from"]) if "from" in params else last - timedelta(days=29)
    start = datetime.combine(first, dtime(), UTC)
    end = datetime.combine(last + timedelta(days=1), dtime(), UTC)
    async with open_pool(dsn, 2) as pool:

        async def call() -> None:
            async with pool.acquire() as con, con.transaction(readonly=True):
                await store.custom_plans(con)
                await figure(con, start, end, "UTC")

        return await timed(call, iterations)


PLATFORM = ["bookings-per-day", "outcomes", "revenue-per-day", "busiest", "lead-time", "connected"]
OWN = ["bookings-per-day", "outcomes", "revenue-per-day", "lead-time"]
_TAG = uuid.uuid4().hex[:8]


def settings_for(dsn: str) -> Settings:
    return Settings(
        env="test",
        database_url=dsn,
        nats_url=NATS_URL,
        nats_stream=f"BENCH{_TAG}",
        nats_subject_prefix=f"bench{_TAG}",
        data_dir=Path(tempfile.gettempdir()) / f"markini-bench-{_TAG}",
    )


async def _doctor_headers(dsn: str, settings: Settings, user_id: uuid.UUID) -> dict[str, str]:
    """A live session for one bench doctor, as a sign-in would make."""
    from server.auth.tokens import hash_token, issue_access_token, new_opaque_token

    con = await asyncpg.connect(dsn)
    try:
        session_id = await con.fetchval(
            """INSERT INTO auth.sessions (user_id, token_hash, expires_at)
               VALUES ($1, $2, $3) RETURNING id""",
            user_id,
            hash_token(new_opaque_token()),
            clock.now() + timedelta(hours=2),
        )
    finally:
        await con.close()
    return {
        "Authorization": f"Bearer {issue_access_token(settings, user_id, 'doctor', session_id)}"
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appointments", type=int, default=1_000_000)
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    asyncio.run(main(parser.parse_args()))
