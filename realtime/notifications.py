"""/notifications: each signed-in user's in-app notifications (one room per user).

The notifications domain sends with `Realtime.notify_user(user_id, Notification(...))`.
"""

from __future__ import annotations

import uuid

from realtime.base import Channel
from realtime.protocol import NOTIFICATIONS_NS
from server.auth.principal import Principal


def user_room(user_id: uuid.UUID) -> str:
    return f"user:{user_id}"


class NotificationsChannel(Channel):
    path = NOTIFICATIONS_NS

    async def on_connected(self, sid: str, principal: Principal | None) -> None:
        assert principal is not None  # anonymous sockets are refused before this
        await self.enter_room(sid, user_room(principal.user_id))
