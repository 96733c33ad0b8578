"""/notifications: each signed-in user's in-app notifications (one room per user).

The notifications domain stores a notification and emits `notification.created` in the same
transaction; every node's fan-out consumer pushes it to its own sockets in the user's room.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from bus import events
from bus.events import Envelope
from realtime.base import Channel
from realtime.protocol import NOTIFICATION, NOTIFICATIONS_NS
from realtime.protocol import Notification as NotificationModel
from server.auth.principal import Principal

if TYPE_CHECKING:
    from realtime.hub import Realtime

NOTIFICATION_EVENTS = frozenset({events.NOTIFICATION_CREATED})


def user_room(user_id: uuid.UUID) -> str:
    return f"user:{user_id}"


class NotificationsChannel(Channel):
    path = NOTIFICATIONS_NS

    async def on_connected(self, sid: str, principal: Principal | None) -> None:
        assert principal is not None  # anonymous sockets are refused before this
        await self.enter_room(sid, user_room(principal.user_id))


async def publish_notification(hub: Realtime, envelope: Envelope) -> None:
    data = dict(envelope.data)
    user_id = uuid.UUID(str(data.pop("user_id")))
    notification = NotificationModel.model_validate(data)
    # Local sockets only: every node consumes the same event (see hub.py).
    await hub.sio.emit(
        NOTIFICATION,
        notification.model_dump(mode="json"),
        room=user_room(user_id),
        namespace=NOTIFICATIONS_NS,
        ignore_queue=True,
    )
