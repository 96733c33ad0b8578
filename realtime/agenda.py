"""/agenda: a doctor's own appointments as they change, and waiting-room news.

The payload of each appointment.* event is the scheduling contract payload plus `event_id`,
`occurred_at` and `patient` (what the agenda shows of the patient, read when the event is sent:
names stay out of the event bus); other domains add events with `Realtime.notify_agenda`.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from bus import events
from bus.events import Envelope
from realtime.acks import SocketError
from realtime.base import Channel
from realtime.protocol import AGENDA_NS
from server.auth.principal import Principal
from server.doctors.service import get_own_doctor
from server.scheduling.service import agenda_view

if TYPE_CHECKING:
    from realtime.hub import Realtime

AGENDA_EVENTS = frozenset(
    {
        events.APPOINTMENT_CREATED,
        events.APPOINTMENT_CONFIRMED,
        events.APPOINTMENT_CANCELLED,
        events.APPOINTMENT_RESCHEDULED,
        events.APPOINTMENT_COMPLETED,
        events.APPOINTMENT_NO_SHOW,
        events.APPOINTMENT_UPDATED,
    }
)


def agenda_room(doctor_id: uuid.UUID) -> str:
    return f"agenda:{doctor_id}"


class AgendaChannel(Channel):
    path = AGENDA_NS

    async def on_connected(self, sid: str, principal: Principal | None) -> None:
        if principal is None or principal.role != "doctor":
            raise SocketError("forbidden", "Only doctors have an agenda.")
        doctor = await get_own_doctor(self.hub.engines.pool, principal)
        await self.enter_room(sid, agenda_room(doctor.id))


async def publish_appointment(hub: Realtime, envelope: Envelope) -> None:
    doctor_id = uuid.UUID(str(envelope.data["doctor_id"]))
    room = agenda_room(doctor_id)
    if next(iter(hub.sio.manager.get_participants(AGENDA_NS, room)), None) is None:
        return  # none of the doctor's devices on this node: skip the patient's read
    appointment_id = uuid.UUID(str(envelope.data["appointment_id"]))
    payload = {
        **envelope.data,
        "event_id": str(envelope.id),
        "occurred_at": envelope.occurred_at.isoformat(),
        "patient": await agenda_view(hub.engines.pool, appointment_id),
    }
    # Local sockets only: every node consumes the same event (see hub.py).
    await hub.sio.emit(envelope.type, payload, room=room, namespace=AGENDA_NS, ignore_queue=True)
