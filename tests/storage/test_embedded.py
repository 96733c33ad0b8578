"""The embedded engines start, serve and stop cleanly (what `markini serve` uses by default)."""

from __future__ import annotations

import shutil
import socket
import tempfile
from pathlib import Path

import asyncpg
import nats

from bus.embedded import embedded_nats
from storage.embedded import embedded_postgres


async def test_embedded_postgres_starts_with_the_needed_extensions_and_stops() -> None:
    # Not pytest's tmp_path: that tree is private to root, and PostgreSQL runs as its own user.
    data_dir = Path(tempfile.mkdtemp(prefix="markini-pg-"))
    async with embedded_postgres(data_dir) as dsn:
        con = await asyncpg.connect(dsn)
        for extension in (
            "btree_gist",
            "btree_gin",
            "pg_trgm",
            "cube",
            "earthdistance",
            "unaccent",
        ):
            await con.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")
        assert await con.fetchval("SELECT 1") == 1
        await con.close()
    assert not (data_dir / "postgres" / "postmaster.pid").exists()
    shutil.rmtree(data_dir)


async def test_embedded_nats_has_jetstream_and_stops(tmp_path: Path) -> None:
    async with embedded_nats(tmp_path) as url:
        nc = await nats.connect(url)
        info = await nc.jetstream().account_info()
        assert info is not None
        await nc.close()
    port = int(url.rsplit(":", 1)[1])
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "nats-server still listening after stop"
