"""Apply numbered SQL migrations in order, each in its own transaction, under an advisory lock.

Two processes starting at once both call `migrate`: the advisory lock makes the second wait,
then find everything applied. Applied files are never edited; add a new number instead.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Arbitrary but fixed: every Markini process contends for this one lock key.
MIGRATION_LOCK_KEY = 0x4D41524B494E49
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for path in sorted(directory.iterdir()):
        match = _NAME.match(path.name)
        if match:
            found.append(Migration(int(match[1]), match[2], path.read_text()))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"duplicate migration numbers in {directory}")
    return found


async def migrate(dsn: str, directory: Path = MIGRATIONS_DIR) -> list[int]:
    """Apply pending migrations; return the versions applied by this call."""
    con = await asyncpg.connect(dsn)
    try:
        await con.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        try:
            await con.execute(
                """CREATE TABLE IF NOT EXISTS public.schema_migrations (
                       version int PRIMARY KEY,
                       name text NOT NULL,
                       applied_at timestamptz NOT NULL DEFAULT now())"""
            )
            done = {r["version"] for r in await con.fetch("SELECT version FROM schema_migrations")}
            applied = []
            for migration in discover(directory):
                if migration.version in done:
                    continue
                async with con.transaction():
                    await con.execute(migration.sql)
                    await con.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                        migration.version,
                        migration.name,
                    )
                log.info("migration applied", extra={"version": migration.version})
                applied.append(migration.version)
            return applied
        finally:
            await con.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
    finally:
        await con.close()
