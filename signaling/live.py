"""The LiveCalls port of server/teleconsult/ports.py on this node's Socket.IO server."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from signaling.recorder import recorders_of
from signaling.rooms import announce_ended

if TYPE_CHECKING:
    from realtime.hub import Realtime


class SocketCalls:
    """Reaches the consultation rooms (every node) and this node's recorders."""

    def __init__(self, hub: Realtime) -> None:
        self.hub = hub

    async def announce_ended(self, appointment_id: uuid.UUID, news: dict[str, Any]) -> None:
        await announce_ended(self.hub, appointment_id, news)

    async def stop_recordings(self, session_id: uuid.UUID) -> None:
        await recorders_of(self.hub).stop_session(session_id)
