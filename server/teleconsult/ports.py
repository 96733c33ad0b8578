"""What the consultation rules need from the live call transport, as a port.

The domain imports no adapter: `signaling/live.py` implements `LiveCalls` on the Socket.IO
server and `server/app.py` (the composition root) puts one in the app's state for the routes.
"""

from __future__ import annotations

import uuid
from typing import Any, Protocol

from starlette.requests import HTTPConnection


class LiveCalls(Protocol):
    async def announce_ended(self, appointment_id: uuid.UUID, news: dict[str, Any]) -> None:
        """Tell both parties' sockets (any node) that the call ended; never raises."""

    async def stop_recordings(self, session_id: uuid.UUID) -> None:
        """Stop the session's recordings held by this node."""


def get_live_calls(connection: HTTPConnection) -> LiveCalls:
    """`Depends(get_live_calls)`: the node's LiveCalls, as the app's lifespan made it."""
    calls: LiveCalls = connection.state.live_calls
    return calls
