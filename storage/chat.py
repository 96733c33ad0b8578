"""SQL of the consultation chat (schema `chat`): messages, pagination, read receipts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

_COLUMNS = "seq, id, appointment_id, sender_user_id, client_message_id, body, created_at, read_at"


async def insert_message(
    con: asyncpg.Connection,
    appointment_id: uuid.UUID,
    sender_user_id: uuid.UUID,
    client_message_id: str | None,
    body: dict[str, Any],
    at: datetime,
) -> asyncpg.Record | None:
    """The new row, or None when this client_message_id was already stored (a resend). `at`:
    the app clock's now (an invitee's history starts at its admission, an instant of that
    clock)."""
    row: asyncpg.Record | None = await con.fetchrow(
        f"""INSERT INTO chat.messages
                (appointment_id, sender_user_id, client_message_id, body, created_at)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT ON CONSTRAINT messages_client_id_unique DO NOTHING
            RETURNING {_COLUMNS}""",
        appointment_id,
        sender_user_id,
        client_message_id,
        body,
        at,
    )
    return row


async def message_by_client_id(
    con: asyncpg.Connection,
    appointment_id: uuid.UUID,
    sender_user_id: uuid.UUID,
    client_message_id: str,
) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await con.fetchrow(
        f"""SELECT {_COLUMNS} FROM chat.messages
            WHERE appointment_id = $1 AND sender_user_id = $2 AND client_message_id = $3""",
        appointment_id,
        sender_user_id,
        client_message_id,
    )
    return row


async def message_seq(
    con: asyncpg.Connection, appointment_id: uuid.UUID, message_id: uuid.UUID
) -> int | None:
    seq: int | None = await con.fetchval(
        "SELECT seq FROM chat.messages WHERE appointment_id = $1 AND id = $2",
        appointment_id,
        message_id,
    )
    return seq


async def list_messages(
    con: asyncpg.Connection, appointment_id: uuid.UUID, before_seq: int | None, limit: int
) -> list[asyncpg.Record]:
    """Newest first, strictly older than `before_seq` when given."""
    return list(
        await con.fetch(
            f"""SELECT {_COLUMNS} FROM chat.messages
                WHERE appointment_id = $1 AND ($2::bigint IS NULL OR seq < $2)
                ORDER BY seq DESC LIMIT $3""",
            appointment_id,
            before_seq,
            limit,
        )
    )


async def message_to(
    con: asyncpg.Connection, message_id: uuid.UUID, reader: uuid.UUID
) -> asyncpg.Record | None:
    """A message that `reader` received (did not write)."""
    row: asyncpg.Record | None = await con.fetchrow(
        f"SELECT {_COLUMNS} FROM chat.messages WHERE id = $1 AND sender_user_id <> $2",
        message_id,
        reader,
    )
    return row


async def mark_read(
    con: asyncpg.Connection, message_id: uuid.UUID, at: datetime
) -> asyncpg.Record | None:
    """Record the first read (at `at`, the app clock's now); None when it was already read."""
    row: asyncpg.Record | None = await con.fetchrow(
        f"""UPDATE chat.messages SET read_at = $2 WHERE id = $1 AND read_at IS NULL
            RETURNING {_COLUMNS}""",
        message_id,
        at,
    )
    return row
