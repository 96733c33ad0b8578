"""The asyncpg pool: JSON codecs on every connection, opened and closed by the app lifespan."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg


async def _init_connection(con: asyncpg.Connection) -> None:
    for typ in ("json", "jsonb"):
        await con.set_type_codec(
            typ, encoder=json.dumps, decoder=json.loads, schema="pg_catalog", format="text"
        )
    # asyncpg has no built-in codec for these: the first statement using one on a connection
    # would first introspect it (3 more statements: jit off, the typeinfo query, jit back).
    # Done here once per connection, so a request's statements do not depend on which pool
    # connection it got (tests/server/graphql counts them exactly).
    await con.fetchrow(
        "SELECT NULL::uuid[] AS ids, NULL::tstzrange AS period, NULL::timestamptz[] AS instants"
    )


async def _keep_session(con: asyncpg.Connection) -> None:
    """On release, after asyncpg rolled back a transaction left open: nothing more. asyncpg's
    default sends `pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL` on every release,
    a round trip the request waits for (a third of a booking's). The application leaves no
    session state behind: settings are SET LOCAL, cursors live in transactions, and whoever takes
    a session advisory lock (the sweepers) unlocks it before release; a LISTEN left behind
    (bus/relay.py's, at shutdown) only brings notifications nobody listens to."""


@asynccontextmanager
async def open_pool(
    dsn: str, max_size: int = 20, server_settings: dict[str, str] | None = None
) -> AsyncIterator[asyncpg.Pool]:
    """`server_settings` are sent when each connection opens: the session's defaults without a
    statement per request (the search pool's read settings, storage/search/pg_queries.py)."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=1,
        max_size=max_size,
        init=_init_connection,
        reset=_keep_session,
        command_timeout=30,
        server_settings=server_settings,
    )
    try:
        yield pool
    finally:
        await pool.close()


def record_dict(record: asyncpg.Record | None) -> dict[str, Any] | None:
    return dict(record) if record is not None else None
