"""Audit appends per second through the serialised hash chain, and the cost of verifying it.

Every append takes the one-row chain head, so this is the ceiling of audited requests per second.
Usage: /work/venv/bin/python bench/audit_append.py [--entries 5000] [--concurrency 20]
Uses MARKINI_BENCH_DATABASE_URL (an admin DSN) or the machine's postgres@127.0.0.1:5432/test,
in a throw-away database.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
import uuid

import asyncpg

from server.audit.service import record_access, verify_chain
from server.auth.principal import Principal
from storage.migrate import migrate
from storage.pool import open_pool

ADMIN_DSN = os.environ.get(
    "MARKINI_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


async def run(entries: int, concurrency: int) -> None:
    name = f"mk_bench_{uuid.uuid4().hex[:8]}"
    dsn = ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"
    admin = await asyncpg.connect(ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        await migrate(dsn)
        async with open_pool(dsn, max_size=concurrency) as pool:
            who = Principal(uuid.uuid4(), "doctor", uuid.uuid4())
            queue = iter(range(entries))

            async def worker() -> None:
                for index in queue:
                    await record_access(
                        pool,
                        principal=who,
                        action="medical_history.read",
                        resource_type="patient",
                        resource_id=str(index),
                        payload={"query": "recent", "notes": "masked"},
                    )

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            elapsed = time.perf_counter() - started
            sys.stdout.write(
                f"append: {entries} entries, {concurrency} concurrent: "
                f"{entries / elapsed:,.0f}/s ({elapsed * 1000 / entries:.2f} ms each)\n"
            )
            started = time.perf_counter()
            report = await verify_chain(pool)
            elapsed = time.perf_counter() - started
            sys.stdout.write(
                f"verify: {report.checked} entries in {elapsed:.2f} s "
                f"({report.checked / elapsed:,.0f}/s), {report.describe()}\n"
            )
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(run(args.entries, args.concurrency))


if __name__ == "__main__":
    main()
