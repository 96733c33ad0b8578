"""Audit appends per second through the serialised hash chain, and the cost of verifying it.

Every append takes the one-row chain head, so this is the ceiling of audited requests per second.
Usage: /work/venv/bin/python bench/audit_append.py [--entries 5000] [--concurrency 20]
In a throw-away database (see bench/common.py).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
import uuid
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/common.py

from bench.common import bench_database  # noqa: E402
from server.audit.service import record_access, verify_chain  # noqa: E402
from server.auth.principal import Principal  # noqa: E402
from storage.pool import open_pool  # noqa: E402


async def run(entries: int, concurrency: int) -> None:
    async with bench_database(migrated=True) as dsn:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(run(args.entries, args.concurrency))


if __name__ == "__main__":
    main()
