"""Events, the search index, the outbox relay and idempotent consumers store the app clock's
instant."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from server.settings import Settings
from tests.far_clock import far_clock
from tests.server.scheduling.helpers import doctor_with_availability
from tests.server.search.helpers import eventually, reindex_now

pytestmark = pytest.mark.any_hour


async def test_index_times_and_event_bookkeeping_carry_the_app_clock(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    with far_clock() as now:
        doctor = await doctor_with_availability(client, db, settings)
        await reindex_now(settings)

        async def relayed_and_handled() -> bool:
            pending = await db.fetchval(
                "SELECT count(*) FROM bus.outbox WHERE published_at IS NULL"
            )
            return pending == 0 and bool(
                await db.fetchval("SELECT count(*) FROM bus.handled_events")
            )

        await eventually(relayed_and_handled)
    row = await db.fetchrow(
        "SELECT indexed_at, availability_checked_at FROM search.doctor_index WHERE doctor_id = $1",
        doctor.id,
    )
    assert (row["indexed_at"], row["availability_checked_at"]) == (now, now)
    outbox = await db.fetchrow(
        """SELECT array_agg(DISTINCT occurred_at) AS occurred,
                  array_agg(DISTINCT published_at) AS published FROM bus.outbox"""
    )
    assert (outbox["occurred"], outbox["published"]) == ([now], [now])
    handled = await db.fetchval("SELECT array_agg(DISTINCT handled_at) FROM bus.handled_events")
    assert handled == [now]
