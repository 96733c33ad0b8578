"""Write an event into the outbox inside the caller's transaction; the relay publishes it later."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
from pydantic import BaseModel

from bus.events import ALL_TYPES, PAYLOADS, Envelope


def envelope(
    event_type: str,
    subject: str,
    data: BaseModel | dict[str, Any],
    actor: str | None = None,
    *,
    at: datetime,
) -> Envelope:
    """The outbox row of an event that occurred `at` (the server's clock), checked against its
    declared type and payload model."""
    if event_type not in ALL_TYPES:
        raise ValueError(f"unknown event type {event_type}")
    if isinstance(data, BaseModel):
        payload = data.model_dump(mode="json")
    else:
        model = PAYLOADS.get(event_type)
        payload = model.model_validate(data).model_dump(mode="json") if model else data
    return Envelope(type=event_type, subject=subject, data=payload, actor=actor, occurred_at=at)


async def emit(
    con: asyncpg.Connection,
    event_type: str,
    subject: str,
    data: BaseModel | dict[str, Any],
    actor: str | None = None,
    *,
    at: datetime,
) -> Envelope:
    """Record an event that occurred `at` (the server's clock); call it on the connection whose
    transaction makes the change."""
    event = envelope(event_type, subject, data, actor, at=at)
    await write(con, event)
    return event


async def write(con: asyncpg.Connection, event: Envelope) -> None:
    """Record a built event (see `envelope`) inside the change's transaction."""
    if not con.is_in_transaction():
        raise RuntimeError("outbox events must be written inside the change's transaction")
    await con.execute(
        """INSERT INTO bus.outbox (id, type, occurred_at, actor, subject, data, version)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        event.id,
        event.type,
        event.occurred_at,
        event.actor,
        event.subject,
        event.data,
        event.version,
    )
