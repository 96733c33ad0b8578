"""What the patients domain needs from the socket transport, as a port.

`realtime/hub.py`'s Realtime implements it; `server/app.py` puts it in the app's state.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Protocol

from starlette.requests import HTTPConnection


class LiveAccess(Protocol):
    async def end_access(self, revoked: Iterable[tuple[uuid.UUID, uuid.UUID]]) -> int:
        """Take this node's sockets of each (user id, patient id) pair out of that patient's
        consultation rooms (chat and call) at once, after the revocation committed; how many
        rooms were left.

        Other nodes do theirs when the `patient.proxy_revoked` event reaches them
        (realtime/fanout.py).
        """


def get_live_access(connection: HTTPConnection) -> LiveAccess:
    """`Depends(get_live_access)`: the node's LiveAccess, as the app's lifespan made it."""
    access: LiveAccess = connection.state.live_access
    return access
