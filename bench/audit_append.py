"""Audit appends per second with many concurrent writers, beside a plain INSERT anchor, and the
seal lag (issue #19).

Each writer does what an audited request does: take a connection, open a transaction, append its
entry (server.audit.service.append: a plain INSERT of an unsealed row), commit. The sealer runs
meanwhile as in the server (server.audit.sealer, every SEAL_INTERVAL_S). The anchor, measured in
the same run, is the same transaction with a single-row INSERT into a table like audit.logs (same
columns, defaults and indexes, no triggers). For comparison, the design this replaced: the same
table chained at INSERT by a trigger under a one-row chain head (migration 0003's chain_append),
which every writer holds until it commits. The sealer runs throughout (as on a server, where
it seals whatever comes). Seal lag: sealed_at - occurred_at per entry, both from
server.clock. Then the cost of `markini audit verify` over the whole chain.
Usage: .venv/bin/python bench/audit_append.py [--entries 20000] [--concurrency 50] [--rounds 4]
In a throw-away database (see bench/common.py).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/common.py

import asyncpg  # noqa: E402

from bench.common import add_json_arg, bench_database, figure, write_json  # noqa: E402
from server import clock  # noqa: E402
from server.audit.sealer import SEAL_INTERVAL_S, seal_pending  # noqa: E402
from server.audit.service import append, verify_chain  # noqa: E402
from storage.audit import NewAuditLog, insert_log  # noqa: E402
from storage.pool import open_pool  # noqa: E402

WHO = uuid.uuid4()


def _entry(index: int) -> NewAuditLog:
    return NewAuditLog(
        action="POST /api/v1/appointments/{appointment_id}/confirm",
        occurred_at=clock.now(),
        user_id=WHO,
        role="doctor",
        resource_type="appointment",
        resource_id=str(uuid.UUID(int=index)),
        ip_address="127.0.0.1",
        user_agent="bench/1.0",
        request_id=uuid.uuid4().hex,
        request_payload={"reason": "***", "note": "***"},
        response_status=200,
    )


# Migration 0003's chaining trigger, on a copy of the table: the chain head is locked per append.
_LOCKED_CHAIN = """
CREATE TABLE public.locked_logs
    (LIKE audit.logs INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
ALTER TABLE public.locked_logs DROP CONSTRAINT logs_sealed_whole;  -- it seals at once, no sealed_at
CREATE TABLE public.locked_head (singleton boolean PRIMARY KEY, seq bigint, hash text);
INSERT INTO public.locked_head VALUES (true, 0, repeat('0', 64));
CREATE FUNCTION public.locked_append() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE head public.locked_head;
BEGIN
    SELECT * INTO head FROM public.locked_head WHERE singleton FOR UPDATE;
    NEW.seq := head.seq + 1;
    NEW.prev_hash := head.hash;
    NEW.hash := encode(sha256(convert_to(NEW.prev_hash || to_jsonb(NEW)::text, 'UTF8')), 'hex');
    UPDATE public.locked_head SET seq = NEW.seq, hash = NEW.hash WHERE singleton;
    RETURN NEW;
END $$;
CREATE TRIGGER locked_append BEFORE INSERT ON public.locked_logs
    FOR EACH ROW EXECUTE FUNCTION public.locked_append();
"""


def _insert_into(table: str) -> Callable[[asyncpg.Connection, NewAuditLog], Awaitable[None]]:
    async def insert(con: asyncpg.Connection, entry: NewAuditLog) -> None:
        await insert_log(con, entry, table)

    return insert


async def _rate(
    pool: asyncpg.Pool,
    insert: Callable[[asyncpg.Connection, NewAuditLog], Awaitable[None]],
    entries: int,
    concurrency: int,
) -> float:
    """Committed single-entry transactions per second, `concurrency` writers at once."""
    queue = iter(range(entries))

    async def writer() -> None:
        for index in queue:
            async with pool.acquire() as con, con.transaction():
                await insert(con, _entry(index))

    started = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(concurrency)))
    return entries / (time.perf_counter() - started)


async def _sealer(pool: asyncpg.Pool, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await seal_pending(pool)
        try:
            await asyncio.wait_for(stop.wait(), SEAL_INTERVAL_S)
        except TimeoutError:
            pass
    await seal_pending(pool)


def _pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1]


async def run(args: argparse.Namespace) -> None:
    entries, concurrency, rounds = args.entries, args.concurrency, args.rounds
    async with bench_database(migrated=True) as dsn, open_pool(dsn, concurrency + 2) as pool:
        await pool.execute(
            """CREATE TABLE public.plain_logs
                   (LIKE audit.logs INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)"""
        )
        await pool.execute(_LOCKED_CHAIN)
        # Interleaved rounds: a neighbour's load on a shared machine hits all three alike.
        seconds = {"anchor": 0.0, "locked": 0.0, "audited": 0.0}
        per_round = entries // rounds
        stop = asyncio.Event()
        sealer = asyncio.create_task(_sealer(pool, stop))
        for _ in range(rounds):
            for name, insert in (
                ("anchor", _insert_into("public.plain_logs")),
                ("locked", _insert_into("public.locked_logs")),
                ("audited", append),
            ):
                seconds[name] += per_round / await _rate(pool, insert, per_round, concurrency)
        stop.set()
        await sealer
        total = per_round * rounds
        anchor, locked, audited = (total / seconds[k] for k in ("anchor", "locked", "audited"))
        lags = [
            r["lag"] * 1000
            for r in await pool.fetch(
                "SELECT extract(epoch FROM sealed_at - occurred_at)::float8 AS lag FROM audit.logs"
            )
        ]
        out = sys.stdout.write
        out(
            f"{total} entries per path in {rounds} interleaved rounds, {concurrency} concurrent "
            "writers, one transaction each\n"
        )
        out(f"anchor, plain INSERT into a like table: {anchor:,.0f}/s\n")
        out(f"audit append (sealer running):         {audited:,.0f}/s ({audited / anchor:.2f}x)\n")
        out(f"before: chained under a head row lock:  {locked:,.0f}/s ({locked / anchor:.2f}x)\n")
        out(
            f"seal lag (sealed_at - occurred_at), {len(lags)} entries: "
            f"p50 {_pct(lags, 50):.0f} ms, p99 {_pct(lags, 99):.0f} ms, max {max(lags):.0f} ms "
            f"(sealer every {SEAL_INTERVAL_S * 1000:.0f} ms)\n"
        )
        started = time.perf_counter()
        report = await verify_chain(pool)
        elapsed = time.perf_counter() - started
        out(
            f"verify: {report.checked} entries in {elapsed:.2f} s "
            f"({report.checked / elapsed:,.0f}/s), {report.describe()}\n"
        )
        plain = "plain INSERT into a like table"
        write_json(
            args,
            [
                figure(
                    "audit appends/s (sealer running)",
                    audited,
                    anchor,
                    "/s",
                    anchor_what=plain,
                    better="higher",
                ),
                figure(
                    "audit appends/s, before: chained under a head row lock",
                    locked,
                    anchor,
                    "/s",
                    anchor_what=plain,
                    better="higher",
                ),
                figure(
                    "audit seal lag, p99",
                    _pct(lags, 99),
                    SEAL_INTERVAL_S * 1000,
                    "ms",
                    anchor_what="the sealer's interval",
                    target="bounded (<= 1 s)",
                ),
            ],
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4)
    add_json_arg(parser)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
