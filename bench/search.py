"""Doctor search on PostgreSQL with 100,000 generated doctors: reindex time, then p50/p95 of five
typical searches through the app (in-process ASGI, no Redis cache, so every call hits SQL), the
SQL statements each request sends, the CPU time each request costs (this process, app and
client, plus the database's backends, whose part is also shown: steadier than latencies on a
shared machine; background tasks of the app count in too), and the plan
(EXPLAIN ANALYZE) of one query of each kind.

Doctors are bulk-loaded with COPY into a fresh database; 5% get weekly availability rules so
"next available" has real slots to sort on (the reindex asks the scheduling service for them).
The anchor is `GET /healthz` through the same app, measured in the same run.

Usage: .venv/bin/python bench/search.py [--doctors 100000] [--iterations 200] [--keep]
       [--json PATH] [--no-plans]
(database and NATS: see bench/common.py)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import time as wall
from pathlib import Path
from typing import Any, cast

import asyncpg
import httpx
import psutil  # type: ignore[import-untyped]
from asgi_lifespan import LifespanManager

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/common.py

from bench.common import (  # noqa: E402
    NATS_URL,
    add_json_arg,
    bench_database,
    figure,
    percentile,
    write_json,
)
from bench.rt_client import cpu_seconds as process_cpu_seconds  # noqa: E402
from bus.events import DOCTOR_UPDATED  # noqa: E402
from bus.outbox import emit  # noqa: E402
from server import clock  # noqa: E402
from server.app import create_app  # noqa: E402
from server.search.cache import SearchCache  # noqa: E402
from server.search.queries import Catalogue, doctor_query, words  # noqa: E402
from server.search.reindex import reindex  # noqa: E402
from server.search.schemas import DoctorSearchParams, SuggestionParams  # noqa: E402
from server.settings import Settings  # noqa: E402
from storage import pool as storage_pool  # noqa: E402
from storage.pool import open_pool  # noqa: E402
from storage.search import catalog  # noqa: E402
from storage.search.pg_queries import READ_SETTINGS  # noqa: E402
from storage.search.postgres import PostgresSearch  # noqa: E402
from tests.conftest import delete_stream  # noqa: E402

# (city, postcode prefix, lat, lon, weight): big cities hold most doctors, as in life.
CITIES = [
    ("Paris", "750", 48.8566, 2.3522, 20),
    ("Marseille", "130", 43.2965, 5.3698, 7),
    ("Lyon", "690", 45.7640, 4.8357, 7),
    ("Toulouse", "310", 43.6047, 1.4442, 5),
    ("Nice", "060", 43.7102, 7.2620, 4),
    ("Nantes", "440", 47.2184, -1.5536, 4),
    ("Strasbourg", "670", 48.5734, 7.7521, 4),
    ("Montpellier", "340", 43.6108, 3.8767, 4),
    ("Bordeaux", "330", 44.8378, -0.5792, 4),
    ("Lille", "590", 50.6292, 3.0573, 4),
    ("Rennes", "350", 48.1173, -1.6778, 3),
    ("Reims", "510", 49.2583, 4.0317, 2),
    ("Saint-Étienne", "420", 45.4397, 4.3872, 2),
    ("Le Havre", "766", 49.4944, 0.1079, 2),
    ("Toulon", "830", 43.1242, 5.9280, 2),
    ("Grenoble", "380", 45.1885, 5.7245, 2),
    ("Dijon", "210", 47.3220, 5.0415, 2),
    ("Angers", "490", 47.4784, -0.5632, 2),
    ("Nîmes", "300", 43.8367, 4.3601, 2),
    ("Villeurbanne", "696", 45.7719, 4.8902, 2),
    ("Clermont-Ferrand", "630", 45.7772, 3.0870, 2),
    ("Le Mans", "720", 48.0061, 0.1996, 2),
    ("Aix-en-Provence", "131", 43.5297, 5.4474, 2),
    ("Brest", "292", 48.3904, -4.4861, 2),
    ("Tours", "370", 47.3941, 0.6848, 2),
    ("Amiens", "800", 49.8941, 2.2958, 2),
    ("Limoges", "870", 45.8336, 1.2611, 2),
    ("Annecy", "740", 45.8992, 6.1294, 1),
    ("Perpignan", "660", 42.6887, 2.8948, 1),
    ("Besançon", "250", 47.2378, 6.0241, 1),
]
FIRST = [
    "Claire",
    "Jean",
    "Marie",
    "Pierre",
    "Sophie",
    "Luc",
    "Amélie",
    "Hélène",
    "Théo",
    "Inès",
    "Noé",
    "Léa",
    "Chloé",
    "Hugo",
    "Zoé",
    "Maël",
    "Anaïs",
    "Jérôme",
    "Céline",
    "Loïc",
]
LAST = [
    "Lefèvre",
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "François",
    "Martinez",
    "Légaré",
    "Bénard",
    "Chénier",
]
# Surnames as in life: a few common ones (Zipf-weighted, "Martin" ~2% of doctors) and a long
# tail; a name query then matches tens to thousands of doctors, not a tenth of the country.
COMMON_SHARE = 0.1
SYLLABLES_A = [
    "Ber",
    "Du",
    "Le",
    "Mar",
    "Ro",
    "Gau",
    "Char",
    "Fon",
    "Mo",
    "Bou",
    "Cha",
    "Lam",
    "Ri",
    "Va",
    "Gi",
    "Pe",
    "Sau",
    "Ma",
    "Thi",
    "Clé",
    "Bé",
    "Tho",
    "Hé",
    "Jo",
    "Lo",
]
SYLLABLES_B = [
    "nard",
    "rand",
    "vier",
    "chet",
    "lin",
    "taine",
    "reau",
    "cher",
    "ssier",
    "bert",
    "mont",
    "ry",
    "llard",
    "det",
    "zin",
    "vel",
    "quet",
    "nier",
    "ment",
    "rel",
    "lon",
    "gnon",
    "ssat",
    "teau",
    "vot",
    "raud",
    "mbert",
    "dou",
    "lère",
    "vière",
    "don",
    "chon",
    "llet",
    "rin",
    "sson",
    "ville",
    "court",
    "gard",
    "vaux",
    "bois",
]
TAIL = [
    a + b.lower() + suffix for a in SYLLABLES_A for b in SYLLABLES_B for suffix in ("", "e", "t")
]
LANGS = ["fr", "en", "es", "de", "it", "ar", "pt"]
TEXT_QUERIES = [
    "Lefevre",
    "martin",
    "dubois",
    "lefebre",
    "Claire Bern",
    "girard",
    "chenier",
    "Zoé Roux",
    "mercie",
    "Léa Lambert",
]
SPECIALTY_WORDS = ["cardio", "dermatologue", "pédiatre", "gynéco", "psychiatrie", "ophtalmo"]
SUGGEST = ["lef", "mart", "cardi", "pari", "derm", "lyo", "bern", "pédia", "touls", "ch"]


def _surname(rng: random.Random) -> str:
    if rng.random() < COMMON_SHARE:
        return rng.choices(LAST, [1 / (rank + 1) for rank in range(len(LAST))])[0]
    return rng.choice(TAIL)


def _codes(rng: random.Random, catalogue: list[str]) -> list[str]:
    return rng.sample(catalogue, 1 if rng.random() < 0.8 else 2)


async def load(con: asyncpg.Connection, doctors: int, rng: random.Random) -> list[uuid.UUID]:
    catalogue = [r["code"] for r in await con.fetch("SELECT code FROM doctors.specializations")]
    weights = [c[4] for c in CITIES]
    users, rows = [], []
    for n in range(doctors):
        user_id, doctor_id = uuid.uuid4(), uuid.uuid4()
        city, prefix, lat, lon, _ = rng.choices(CITIES, weights)[0]
        users.append((user_id, f"doctor{n}@bench.test", "!unusable", "doctor", True))
        rows.append(
            (
                doctor_id,
                user_id,
                rng.choice(FIRST),
                rng.choice(LAST),
                _codes(rng, catalogue),
                f"BENCH-{n:07d}",
                rng.randrange(40),
                rng.randrange(20, 121) * 100,
                "Consultations, prevention and follow-up; " + _surname(rng) + " practice.",
                ["fr", *rng.sample(LANGS[1:], rng.randrange(3))],
                city,
                f"{prefix}{rng.randrange(100):02d}",
                lat + rng.uniform(-0.1, 0.1),
                lon + rng.uniform(-0.1, 0.1),
                rng.random() < 0.85,
                "verified" if rng.random() < 0.95 else "unverified",
                round(rng.uniform(3, 5), 2),
                rng.randrange(400),
            )
        )
    await con.copy_records_to_table(
        "users",
        schema_name="auth",
        records=users,
        columns=["id", "email", "password_hash", "role", "is_verified"],
    )
    await con.copy_records_to_table(
        "doctors",
        schema_name="doctors",
        records=rows,
        columns=[
            "id",
            "user_id",
            "first_name",
            "last_name",
            "specializations",
            "license_number",
            "years_of_experience",
            "consultation_fee",
            "bio",
            "languages",
            "city",
            "postcode",
            "latitude",
            "longitude",
            "accepts_new_patients",
            "verification_status",
            "rating",
            "total_reviews",
        ],
    )
    return [r[0] for r in rows if r[15] == "verified"]


async def give_availability(con: asyncpg.Connection, doctor_ids: list[uuid.UUID]) -> None:
    """Weekday mornings in person, some afternoons by video (rows as scheduling stores them)."""
    rules = []
    for i, doctor_id in enumerate(doctor_ids):
        for day in range(1, 6):
            rules.append((doctor_id, day, wall(9), wall(12), 20, "in-person"))
            if i % 3 == 0:
                rules.append((doctor_id, day, wall(14), wall(17), 20, "teleconsultation"))
    await con.copy_records_to_table(
        "weekly_rules",
        schema_name="scheduling",
        records=rules,
        columns=[
            "doctor_id",
            "day_of_week",
            "start_time",
            "end_time",
            "slot_minutes",
            "visit_type",
        ],
    )
    await con.copy_records_to_table(
        "availability_versions",
        schema_name="scheduling",
        records=[(d, 1) for d in doctor_ids],
        columns=["doctor_id", "version"],
    )


def _percentiles(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples) * 1000, percentile(samples, 0.95) * 1000


async def event_to_search(
    client: httpx.AsyncClient, dsn: str, doctor_ids: list[uuid.UUID], rounds: int
) -> tuple[float, float]:
    """Rename a doctor and emit doctor.updated; time until the search API shows the new name
    (outbox -> relay -> NATS -> search-indexer -> index)."""
    samples = []
    async with open_pool(dsn, 1) as pool, pool.acquire() as con:  # the pool knows jsonb
        for n, doctor_id in enumerate(doctor_ids[:rounds]):
            name = f"Zebulon{n}x{uuid.uuid4().hex[:6]}"
            started = time.perf_counter()
            async with con.transaction():
                await con.execute(
                    "UPDATE doctors.doctors SET first_name = $2 WHERE id = $1", doctor_id, name
                )
                await emit(
                    con,
                    DOCTOR_UPDATED,
                    f"doctor:{doctor_id}",
                    {"doctor_id": str(doctor_id)},
                    at=clock.now(),
                )
            while True:
                found = (await client.get("/api/v1/search/doctors", params={"q": name})).json()
                if found["total"]:
                    break
                await asyncio.sleep(0.005)
            samples.append(time.perf_counter() - started)
    return _percentiles(samples)


_pool_init = storage_pool._init_connection
# The statements of the request being measured (asyncpg query loggers run in its context).
STATEMENTS: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "statements", default=None
)


def count_statement(record: Any) -> None:
    if (statements := STATEMENTS.get()) is not None:
        statements.append(record.query)


async def init_counting(con: asyncpg.Connection) -> None:
    await _pool_init(con)
    con.add_query_logger(count_statement)


async def backends(dsn: str) -> list[psutil.Process]:
    """The PostgreSQL processes serving the bench database (the app's pool), on this machine."""
    con = await asyncpg.connect(dsn)
    try:
        rows = await con.fetch(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await con.close()
    return [psutil.Process(r["pid"]) for r in rows]


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.Error):  # a connection the pool closed meanwhile
            total += process_cpu_seconds(process.pid)
    return total


async def measure(
    client: httpx.AsyncClient,
    path: str,
    make: Callable[[], dict[str, Any]],
    iterations: int,
    dsn: str,
) -> dict[str, float]:
    for _ in range(20):  # warm the pool, the plan caches and PostgreSQL's buffers
        (await client.get(path, params=make())).raise_for_status()
    processes = await backends(dsn)
    app_before, db_before = cpu_seconds([psutil.Process()]), cpu_seconds(processes)
    samples, found, statements = [], 0, 0
    for _ in range(iterations):
        params = make()
        sent: list[str] = []
        token = STATEMENTS.set(sent)
        started = time.perf_counter()
        response = await client.get(path, params=params)
        samples.append(time.perf_counter() - started)
        STATEMENTS.reset(token)
        await asyncio.sleep(0)  # the loggers run soon after each statement
        statements += len(sent)
        response.raise_for_status()
        body = response.json()
        found += body.get("total", len(body.get("items", [])))
    app = cpu_seconds([psutil.Process()]) - app_before
    db = cpu_seconds(processes) - db_before
    p50, p95 = _percentiles(samples)
    return {
        "p50_ms": p50,
        "p95_ms": p95,
        "cpu_ms": (app + db) * 1000 / iterations,
        "db_cpu_ms": db * 1000 / iterations,
        "avg_hits": found / iterations,
        "statements": statements / iterations,
    }


class ExplainingConnection:
    """Runs each fetch twice: EXPLAIN ANALYZE first (kept), then for real."""

    def __init__(self, con: asyncpg.Connection, plans: list[str]) -> None:
        self._con, self._plans = con, plans

    def transaction(self, **kwargs: Any) -> Any:
        return self._con.transaction(**kwargs)

    async def execute(self, sql: str, *args: Any) -> str:
        return str(await self._con.execute(sql, *args))

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        rows = await self._con.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *args)
        self._plans.append("\n".join(r[0] for r in rows))
        return list(await self._con.fetch(sql, *args))


class ExplainingPool:
    def __init__(self, pool: asyncpg.Pool, plans: list[str]) -> None:
        self._pool, self._plans = pool, plans

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[ExplainingConnection]:
        async with self._pool.acquire() as con:
            yield ExplainingConnection(con, self._plans)

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        async with self.acquire() as con:
            return await con.fetch(sql, *args)


async def explain(pool: asyncpg.Pool, label: str, params: dict[str, Any]) -> str:
    """The plans of one search of this kind, as the PostgreSQL backend runs it."""
    plans: list[str] = []
    backend = PostgresSearch(cast(asyncpg.Pool, ExplainingPool(pool, plans)))
    if label == "suggestions":
        await backend.suggest(words(SuggestionParams(**params).q) or "", 5)
    else:
        rows = await catalog.specializations(pool)
        catalogue = Catalogue({r["code"]: (r["name_en"], r["name_fr"]) for r in rows})
        await backend.search(doctor_query(DoctorSearchParams(**params), catalogue))
    return "\n\n".join(plans)


def searches(rng: random.Random) -> dict[str, tuple[str, Callable[[], dict[str, Any]]]]:
    def near() -> dict[str, Any]:
        _, _, lat, lon, _ = rng.choice(CITIES[:12])
        return {
            "lat": lat + rng.uniform(-0.03, 0.03),
            "lon": lon + rng.uniform(-0.03, 0.03),
            "radius": 10,
            "sort": "distance",
        }

    return {
        "text (name, typos)": ("/api/v1/search/doctors", lambda: {"q": rng.choice(TEXT_QUERIES)}),
        "specialty + city": (
            "/api/v1/search/doctors",
            lambda: {
                "specialty": rng.choice(["cardiology", "dermatology", "pediatrics", "Psychiatrie"]),
                "city": rng.choice(["Paris", "lyon", "Marseille", "Saint-Etienne", "Nantes"]),
            },
        ),
        "geo 10 km, by distance": ("/api/v1/search/doctors", near),
        "text + filters, next available": (
            "/api/v1/search/doctors",
            lambda: {
                "q": rng.choice(SPECIALTY_WORDS),
                "min_rating": 3.5,
                "max_fee": 9000,
                "visit_type": "in-person",
                "available_within_days": 30,
                "sort": "next_available",
            },
        ),
        "suggestions": ("/api/v1/search/suggestions", lambda: {"q": rng.choice(SUGGEST)}),
    }


async def main(args: argparse.Namespace) -> None:
    out = sys.stdout.write
    rng = random.Random(7)
    async with bench_database(migrated=True, keep=args.keep) as dsn:
        async with open_pool(dsn, 8) as pool:
            started = time.perf_counter()
            async with pool.acquire() as con:
                verified = await load(con, args.doctors, rng)
                await give_availability(con, rng.sample(verified, len(verified) // 20))
            out(f"loaded {args.doctors:,} doctors (COPY) in {time.perf_counter() - started:.1f}s\n")
            phases: dict[str, float] = {}
            began: dict[str, float] = {}

            def progress(phase: str, done: int, total: int) -> None:
                now = time.perf_counter()
                phases[phase] = now - began.setdefault(phase, now)

            started = time.perf_counter()
            report = await reindex(pool, PostgresSearch(pool), SearchCache(None, "bench"), progress)
            total = time.perf_counter() - started
            out(
                f"reindex: {total:.1f}s for {report.indexed:,} indexed doctors "
                f"({report.with_availability:,} with availability rules); phases: "
                + ", ".join(f"{p} {s:.1f}s" for p, s in phases.items())
                + "\n"
            )
            await pool.execute("VACUUM ANALYZE search.doctor_index")
        tag = uuid.uuid4().hex[:8]
        settings = Settings(
            env="test",
            database_url=dsn,
            nats_url=NATS_URL,
            nats_stream=f"BENCH{tag}",
            nats_subject_prefix=f"bench{tag}",
            data_dir=Path(tempfile.mkdtemp()),
        )
        storage_pool._init_connection = init_counting  # the app's pool counts statements
        app = create_app(settings)
        figures: dict[str, Any] = {"doctors": args.doctors, "reindex_s": round(total, 1)}
        async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                out(
                    f"{'search':<34}{'p50 ms':>8}{'p95 ms':>8}{'avg hits':>10}{'SQL/req':>9}"
                    f"{'CPU ms/req':>12}{'of which DB':>13}\n"
                )
                figures["searches"] = results = {}
                started_load = os.getloadavg()[0]
                for label, (path, make) in searches(rng).items():
                    results[label] = found = await measure(client, path, make, args.iterations, dsn)
                    out(
                        f"{label:<34}{found['p50_ms']:>8.1f}{found['p95_ms']:>8.1f}"
                        f"{found['avg_hits']:>10,.0f}{found['statements']:>9.1f}"
                        f"{found['cpu_ms']:>12.2f}{found['db_cpu_ms']:>13.2f}\n"
                    )
                anchor = await measure(client, "/healthz", dict, args.iterations, dsn)
                ended_load = os.getloadavg()[0]
                p50, p95 = anchor["p50_ms"], anchor["p95_ms"]
                out(f"{'anchor: GET /healthz':<34}{p50:>8.1f}{p95:>8.1f}{'':>19}")
                out(f"{anchor['cpu_ms']:>12.2f}{anchor['db_cpu_ms']:>13.2f}\n")
                out(
                    f"load average (1 min): {started_load:.2f} before the searches, "
                    f"{ended_load:.2f} after\n"
                )
                p50, p95 = await event_to_search(client, dsn, verified, 30)
                out(f"{'event -> searchable (30 renames)':<34}{p50:>8.1f}{p95:>8.1f}\n")
                figures["anchor_healthz"] = anchor
                figures["event_to_searchable"] = {"p50_ms": p50, "p95_ms": p95}
        await delete_stream(NATS_URL, settings.nats_stream)
        if args.plans:
            async with open_pool(dsn, 2, READ_SETTINGS) as pool:
                for label, (_, make) in searches(random.Random(7)).items():
                    params = make()
                    out(f"\n--- plan: {label} {json.dumps(params, ensure_ascii=False)}\n")
                    out(await explain(pool, label, params) + "\n")
    anchor_p95 = figures["anchor_healthz"]["p95_ms"]
    rows = [
        figure(f"search over {args.doctors:,} doctors, {label}, p95", found["p95_ms"],
               anchor_p95, "ms", anchor_what="GET /healthz", target="< 10 ms")
        for label, found in figures["searches"].items()
    ]  # fmt: skip
    write_json(args, rows, **figures)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--doctors", type=int, default=100_000)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--no-plans", dest="plans", action="store_false", help="skip EXPLAIN ANALYZE"
    )
    add_json_arg(parser)
    asyncio.run(main(parser.parse_args()))
