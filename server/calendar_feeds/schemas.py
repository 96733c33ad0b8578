"""Calendar feed API shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class FeedCreated(BaseModel):
    url: str = Field(
        description="The secret feed URL (path); shown once. Subscribe to it in any calendar app"
    )
    created_at: datetime


class FeedState(BaseModel):
    active: bool
    created_at: datetime | None = Field(description="When the live link was made")
