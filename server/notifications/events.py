"""notification.created: a stored in-app notification, for every node to push to the user's
sockets (realtime/notifications.py). Written to the bus outbox in the transaction that stores it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from bus import events
from bus.events import register_payload
from bus.outbox import emit


class NotificationCreated(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID
    user_id: uuid.UUID
    kind: str
    title: str
    body: str = ""
    data: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime


register_payload(events.NOTIFICATION_CREATED, NotificationCreated)


async def emit_created(con: asyncpg.Connection, payload: NotificationCreated) -> None:
    await emit(con, events.NOTIFICATION_CREATED, f"user:{payload.user_id}", payload)
