"""What the admin domain needs from the socket transport, as a port.

`realtime/hub.py`'s Realtime implements it; `server/app.py` puts it in the app's state.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Protocol

from starlette.requests import HTTPConnection


class LiveSessions(Protocol):
    async def end_sessions(self, session_ids: Iterable[uuid.UUID]) -> int:
        """Close this node's sockets of those (just revoked) sessions at once; how many.

        Other nodes close theirs when the account's event reaches them (realtime/fanout.py).
        """

    def connected(self) -> dict[str, int]:
        """Sockets connected to this node, per namespace."""


def get_live_sessions(connection: HTTPConnection) -> LiveSessions:
    """`Depends(get_live_sessions)`: the node's LiveSessions, as the app's lifespan made it."""
    sessions: LiveSessions = connection.state.live_sessions
    return sessions
