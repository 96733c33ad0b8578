"""SQL the realtime layer needs outside chat: which socket sessions are still live."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg


async def live_session_ids(
    con: asyncpg.Connection, session_ids: list[uuid.UUID], now: datetime
) -> set[uuid.UUID]:
    """The subset still live at `now`; same rule as server.auth.principal.authenticate_token."""
    rows = await con.fetch(
        """SELECT s.id FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id
           WHERE s.id = ANY($1::uuid[])
             AND s.revoked_at IS NULL AND s.expires_at > $2 AND u.is_active""",
        session_ids,
        now,
    )
    return {r["id"] for r in rows}
