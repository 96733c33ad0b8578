"""Shared by the bench scripts: the engines, a throw-away database, `markini serve` nodes as
subprocesses, a ready server with an HTTP client and test users, and the percentiles printed.

Each script puts the repository root at the head of sys.path before importing `bench.common`
(run as a script, bench/ is there instead, and `tests` would not be importable).

Figures as JSON (read by bench/all.py): a script calls `add_json_arg(parser)` and, at the end,
`write_json(args, rows)` with one `figure(...)` per line of the issue's table.

Engines: MARKINI_BENCH_DATABASE_URL or MARKINI_DATABASE_URL (an admin DSN; throw-away databases
are made beside it) or the machine's postgres@127.0.0.1:5432/test; MARKINI_NATS_URL or
nats://127.0.0.1:4222; MARKINI_REDIS_URL or redis://127.0.0.1:6379/0 (only where a bench asks).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil  # type: ignore[import-untyped]

from server.settings import Settings
from storage.migrate import migrate
from tests.conftest import delete_stream
from tests.factories import Doctor, Patient, make_doctor, make_patient

ROOT = Path(__file__).resolve().parent.parent
ADMIN_DSN = os.environ.get(
    "MARKINI_BENCH_DATABASE_URL",
    os.environ.get("MARKINI_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
)
NATS_URL = os.environ.get("MARKINI_NATS_URL", "nats://127.0.0.1:4222")
REDIS_URL = os.environ.get("MARKINI_REDIS_URL", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def backend_cpu(db: asyncpg.Connection) -> dict[int, float]:
    """CPU seconds so far (user + system) of each PostgreSQL backend of `db`'s database, by pid;
    not the auxiliary processes (WAL writer, checkpointer...), which serve the whole machine."""
    rows = await db.fetch("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
    seconds: dict[int, float] = {}
    for row in rows:
        with contextlib.suppress(psutil.Error):  # a backend that just exited
            times = psutil.Process(row["pid"]).cpu_times()
            seconds[row["pid"]] = times.user + times.system
    return seconds


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def ms(values: list[float]) -> str:
    return (
        f"p50 {statistics.median(values) * 1000:.1f} ms, "
        f"p95 {percentile(values, 0.95) * 1000:.1f} ms, "
        f"p99 {percentile(values, 0.99) * 1000:.1f} ms"
    )


@contextlib.asynccontextmanager
async def bench_database(*, migrated: bool = False, keep: bool = False) -> AsyncIterator[str]:
    """The DSN of a throw-away database beside ADMIN_DSN; unmigrated, the first node to start
    migrates it. `keep` leaves it in place (and says so) for a look afterwards."""
    name = f"mk_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    base, _, query = ADMIN_DSN.partition("?")
    dsn = base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")
    try:
        if migrated:
            await migrate(dsn)
        yield dsn
    finally:
        if keep:
            sys.stdout.write(f"kept database {name}\n")
        else:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def node_env(
    database_url: str, tag: str, data_dir: Path, *, redis: bool, **settings: str
) -> dict[str, str]:
    """The environment of a `markini serve` node; `settings` are extra MARKINI_* overrides."""
    env = {
        **os.environ,
        "MARKINI_ENV": "test",
        "MARKINI_DATABASE_URL": database_url,
        "MARKINI_NATS_URL": NATS_URL,
        "MARKINI_NATS_STREAM": f"B{tag}",
        "MARKINI_NATS_SUBJECT_PREFIX": f"b{tag}",
        "MARKINI_DATA_DIR": str(data_dir),
        "MARKINI_LOG_LEVEL": "WARNING",
        **{f"MARKINI_{key.upper()}": value for key, value in settings.items()},
    }
    if redis:
        env["MARKINI_REDIS_URL"] = REDIS_URL
    else:
        env.pop("MARKINI_REDIS_URL", None)
    return env


@dataclass
class Node:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.asynccontextmanager
async def run_node(env: dict[str, str], log: Path) -> AsyncIterator[Node]:
    """One `markini serve` subprocess, ready (its /readyz answers 200). MARKINI_BENCH_NODE_ROOT
    runs the node from another checkout (e.g. main, for a before / after in the same run)."""
    root = Path(os.environ.get("MARKINI_BENCH_NODE_ROOT", ROOT))
    argv = ["-m", "server.cli", "serve", "--port", "{port}"]
    async with run_server(argv, env, log, cwd=root) as node:
        yield node


@contextlib.asynccontextmanager
async def run_server(
    argv: list[str], env: dict[str, str], log: Path, cwd: Path = ROOT
) -> AsyncIterator[Node]:
    """`python argv...` from the repository root ("{port}" in argv: a free port), until its
    /readyz answers 200; stopped (SIGTERM, then SIGKILL after 30 s) on exit."""
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, *(a.replace("{port}", str(port)) for a in argv)],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    node = Node(port, process)
    try:
        async with httpx.AsyncClient(base_url=node.url) as http:
            deadline = time.monotonic() + 90
            while True:
                if process.poll() is not None:
                    tail = "".join(log.read_text().splitlines(keepends=True)[-30:])
                    raise RuntimeError(f"node exited during startup ({log}):\n{tail}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get("/readyz")).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"node not ready in 90 s, see {log}")
                await asyncio.sleep(0.2)
        yield node
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass
class BenchEnv:
    dsn: str
    db: asyncpg.Connection
    http: httpx.AsyncClient
    settings: Settings
    node: Node

    async def doctor(self, **fields: Any) -> Doctor:
        return await make_doctor(self.db, self.settings, **fields)

    async def patient(self) -> Patient:
        return await make_patient(self.db, self.settings)


@contextlib.asynccontextmanager
async def bench_env(clients: int = 200, **settings: str) -> AsyncIterator[BenchEnv]:
    """One node on a migrated throw-away database, an HTTP client to it sized for `clients`,
    and a connection to make users directly in the database (`settings`: see node_env).
    The node uses Redis (rate limits, cache) only when MARKINI_REDIS_URL is set."""
    tag = uuid.uuid4().hex[:8]
    async with contextlib.AsyncExitStack() as stack:
        dsn = await stack.enter_async_context(bench_database(migrated=True))
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="markini-bench-")))
        redis = "MARKINI_REDIS_URL" in os.environ
        env = node_env(dsn, tag, work, redis=redis, db_pool_max="20", **settings)
        stack.push_async_callback(delete_stream, NATS_URL, env["MARKINI_NATS_STREAM"])
        node = await stack.enter_async_context(run_node(env, work / "node.log"))
        db = await asyncpg.connect(dsn)
        stack.push_async_callback(db.close)
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        http = await stack.enter_async_context(
            httpx.AsyncClient(base_url=node.url, limits=limits, timeout=120)
        )
        yield BenchEnv(dsn, db, http, Settings(env="test", data_dir=work), node)


def every_day(start: str, end: str, minutes: int) -> dict[str, Any]:
    """An availability body: the same hours every day, bookable at once, 120 days ahead."""
    rules = [
        {"day_of_week": d, "start": start, "end": end, "slot_minutes": minutes,
         "visit_type": "in-person"}
        for d in range(1, 8)
    ]  # fmt: skip
    return {"rules": rules, "settings": {"min_notice_minutes": 0, "max_horizon_days": 120}}


def add_json_arg(parser: argparse.ArgumentParser) -> None:
    """`--json PATH`: also write the figures there (see write_json)."""
    parser.add_argument(
        "--json",
        type=Path,
        metavar="PATH",
        help="also write the figures, each with its anchor, as JSON to PATH",
    )


def figure(
    what: str,
    now: float | None,
    anchor: float | None,
    unit: str,
    *,
    anchor_what: str = "",
    target: str = "",
    better: str = "lower",
) -> dict[str, Any]:
    """One row of a bench's JSON: `now` beside its `anchor` (measured in the same run, same
    unit), `ratio` = now / anchor, `better` "lower" or "higher", `target` as the issue says it
    (e.g. "<= 20 KiB", "<= 1.0x")."""
    ratio = now / anchor if now is not None and anchor else None
    return {
        "what": what,
        "now": now,
        "anchor": anchor,
        "unit": unit,
        "ratio": ratio,
        "anchor_what": anchor_what,
        "target": target,
        "better": better,
    }


def write_json(args: argparse.Namespace, rows: list[dict[str, Any]], **extra: Any) -> None:
    """Write {"bench", "argv", "loadavg" (1/5/15 min, at the end), "rows": [figure...], **extra}
    to `args.json` when given; `extra` holds anything else worth keeping (sizes, notes)."""
    if getattr(args, "json", None) is None:
        return
    document = {
        "bench": Path(sys.argv[0]).stem,
        "argv": sys.argv[1:],
        "loadavg": list(os.getloadavg()),
        "rows": rows,
        **extra,
    }
    args.json.write_text(json.dumps(document, indent=2, default=str) + "\n")


def latency_figures(values: list[float]) -> dict[str, float]:
    """p50 / p95 / p99 in milliseconds, as `ms` prints them, for --json."""
    return {
        "p50_ms": round(statistics.median(values) * 1000, 2),
        "p95_ms": round(percentile(values, 0.95) * 1000, 2),
        "p99_ms": round(percentile(values, 0.99) * 1000, 2),
    }


async def settled(pid: int, share: float = 0.1, timeout: float = 60) -> None:
    """Wait until process `pid` uses less than `share` of a core over a second (its consumers
    caught up with the events the set-up made), or `timeout` seconds: a timed phase then counts
    its own work, not the set-up's."""
    process = psutil.Process(pid)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = sum(process.cpu_times()[:2])
        await asyncio.sleep(1)
        if sum(process.cpu_times()[:2]) - before < share:
            return
