"""The joining window of a teleconsultation: [start - consult_join_early_s, end + consult_grace_s].

One rule for every reader: the REST join and `call.join` (server/teleconsult/access.py), the session
sweeper, and the API objects that show it (sessions, teleconsultation appointments), so that
browsers take the window from the server instead of copying its settings.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from server.settings import Settings


def join_window(start: datetime, end: datetime, settings: Settings) -> tuple[datetime, datetime]:
    """When the parties of a consultation from `start` to `end` may first and last join."""
    opens = start - timedelta(seconds=settings.consult_join_early_s)
    closes = end + timedelta(seconds=settings.consult_grace_s)
    return opens, closes
