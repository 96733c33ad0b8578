"""/notifications: each signed-in user's in-app notifications (one room per user).

The notifications domain stores each notification, then pushes it through `SocketBell` (its
LiveNotifications port) once the transaction has committed.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from bus import events
from bus.events import Envelope
from realtime.base import Channel
from realtime.protocol import NOTIFICATIONS_NS
from realtime.protocol import Notification as NotificationModel
from server.auth.principal import Principal
from server.notifications.events import NotificationCreated
from server.waitlist.events import QueueUpdated

if TYPE_CHECKING:
    from realtime.hub import Realtime


def user_room(user_id: uuid.UUID) -> str:
    return f"user:{user_id}"


class NotificationsChannel(Channel):
    path = NOTIFICATIONS_NS

    async def on_connected(self, sid: str, principal: Principal | None) -> None:
        assert principal is not None  # anonymous sockets are refused before this
        await self.enter_room(sid, user_room(principal.user_id))


# Domain events this channel turns into transient notifications (realtime/fanout.py); the
# stored ones come from the notifications domain through SocketBell.
NOTIFIED_EVENTS = frozenset({events.QUEUE_UPDATED})


async def publish_notification(hub: Realtime, envelope: Envelope) -> None:
    """queue.updated → a `notification` of kind "queue.updated" to each patient of that
    doctor's day (not stored: it only says "re-read your standing")."""
    update = QueueUpdated.model_validate(envelope.data)
    for user_id in update.patient_user_ids:
        await hub.notify_user(
            user_id,
            NotificationModel(
                kind=events.QUEUE_UPDATED,
                title="Your expected start changed",
                data={"doctor_id": str(update.doctor_id), "on_day": update.on_day.isoformat()},
                created_at=envelope.occurred_at,
            ),
        )


class SocketBell:
    """The LiveNotifications port (server/notifications/ports.py) on this node's Socket.IO
    server: through the client manager (Redis with several nodes), so every node's sockets of
    the user get it."""

    def __init__(self, hub: Realtime) -> None:
        self.hub = hub

    async def push(self, notification: NotificationCreated) -> None:
        data = notification.model_dump(exclude={"user_id"})
        await self.hub.notify_user(notification.user_id, NotificationModel.model_validate(data))
