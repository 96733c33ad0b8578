"""/notifications: each signed-in user's in-app notifications (one room per user).

The notifications domain sends with `Realtime.notify_user(user_id, Notification(...))`.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from bus import events
from bus.events import Envelope
from realtime.base import Channel
from realtime.protocol import NOTIFICATIONS_NS, Notification
from server.auth.principal import Principal
from server.waitlist.events import QueueUpdated, WaitlistOffered

if TYPE_CHECKING:
    from realtime.hub import Realtime


def user_room(user_id: uuid.UUID) -> str:
    return f"user:{user_id}"


class NotificationsChannel(Channel):
    path = NOTIFICATIONS_NS

    async def on_connected(self, sid: str, principal: Principal | None) -> None:
        assert principal is not None  # anonymous sockets are refused before this
        await self.enter_room(sid, user_room(principal.user_id))


# Domain events this channel turns into in-app notifications (realtime/fanout.py).
NOTIFIED_EVENTS = frozenset({events.WAITLIST_OFFERED, events.QUEUE_UPDATED})


async def publish_notification(hub: Realtime, envelope: Envelope) -> None:
    """waitlist.offered → a `notification` of kind "waitlist.offered" to the offered patient;
    queue.updated → one of kind "queue.updated" to each patient of that doctor's day."""
    if envelope.type == events.QUEUE_UPDATED:
        update = QueueUpdated.model_validate(envelope.data)
        for user_id in update.patient_user_ids:
            await hub.notify_user(
                user_id,
                Notification(
                    kind=events.QUEUE_UPDATED,
                    title="Your expected start changed",
                    data={"doctor_id": str(update.doctor_id), "on_day": update.on_day.isoformat()},
                    created_at=envelope.occurred_at,
                ),
            )
        return
    offer = WaitlistOffered.model_validate(envelope.data)
    await hub.notify_user(
        offer.patient_user_id,
        Notification(
            id=envelope.id,
            kind=events.WAITLIST_OFFERED,
            title="An earlier slot is held for you",
            data={
                "offer_id": str(offer.offer_id),
                "appointment_id": str(offer.appointment_id),
                "doctor_id": str(offer.doctor_id),
                "start": offer.start.isoformat(),
                "end": offer.end.isoformat(),
                "expires_at": offer.expires_at.isoformat(),
            },
            created_at=envelope.occurred_at,
        ),
    )
