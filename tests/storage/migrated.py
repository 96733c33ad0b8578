"""A scratch database migrated up to just before one migration: where a migration's test makes
the rows that migration must carry over."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from storage.migrate import MIGRATIONS_DIR, migrate
from tests.conftest import EngineUrls, _dsn_for


@asynccontextmanager
async def database_before(
    engine_urls: EngineUrls, scratch: Path, number: int
) -> AsyncIterator[str]:
    """The DSN of a new database with the migrations numbered below `number` applied; dropped
    on exit. `scratch`: an empty folder for the copied migrations."""
    earlier = scratch / "migrations"
    earlier.mkdir()
    for path in MIGRATIONS_DIR.glob("*.sql"):
        if int(path.name[:4]) < number:
            shutil.copy(path, earlier / path.name)
    name = f"mk_before{number}_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(engine_urls.admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        dsn = _dsn_for(engine_urls.admin_dsn, name)
        await migrate(dsn, earlier)
        yield dsn
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
