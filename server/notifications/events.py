"""An in-app notification as stored and as pushed to the user's sockets (docs/realtime.md)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class NotificationCreated(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID
    user_id: uuid.UUID
    kind: str
    title: str
    body: str = ""
    data: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
