"""Reaching call participants: emit to one socket, or to a whole consultation room (any node)."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from bus.events import Envelope
from realtime.consult import consult_room
from realtime.protocol import CONSULT_NS
from signaling.protocol import CALL_ENDED

if TYPE_CHECKING:
    from realtime.hub import Realtime

log = logging.getLogger(__name__)


def guest_room(appointment_id: uuid.UUID) -> str:
    """An invitee's socket from its call.join on: it hears the end even while waiting (the
    consultation room, with the chat, opens to it only once admitted)."""
    return f"consult-guest:{appointment_id}"


async def emit_to(hub: Realtime, sid: str, event: str, payload: dict[str, Any]) -> None:
    # A socket is also a room named by its sid, so this reaches it whichever node holds it.
    await hub.sio.emit(event, payload, to=sid, namespace=CONSULT_NS)


async def announce_ended(hub: Realtime, appointment_id: uuid.UUID, payload: dict[str, Any]) -> None:
    """Tell every socket in the consultation room (both parties, in the call or only on its
    page: a patient who left the call must stop the camera and see the end) on every node."""
    try:
        for room in (consult_room(appointment_id), guest_room(appointment_id)):
            await hub.sio.emit(CALL_ENDED, payload, room=room, namespace=CONSULT_NS)
    except Exception:  # the end itself is committed: a fan-out failure must not undo the answer
        log.warning("could not announce the end of a call", exc_info=True)


def ended_news(envelope: Envelope) -> dict[str, Any]:
    """call.ended from a teleconsultation.ended event (the same fields as the REST end)."""
    data = envelope.data
    return {
        "session_id": str(data["session_id"]),
        "appointment_id": str(data["appointment_id"]),
        "status": data["status"],
        "ended_at": data["ended_at"],
        "duration_s": data["duration_s"],
        "end_reason": data["reason"],
    }


async def publish_system_end(hub: Realtime, envelope: Envelope) -> None:
    """Ends the system made (window closed, appointment closed) reach the room through the bus
    on each node, to its own sockets; a party's end is announced by the request that made it
    (`ended_by` set), at once and once."""
    if envelope.data.get("ended_by") is not None:
        return
    appointment_id = uuid.UUID(str(envelope.data["appointment_id"]))
    for room in (consult_room(appointment_id), guest_room(appointment_id)):
        await hub.sio.emit(
            CALL_ENDED, ended_news(envelope), room=room, namespace=CONSULT_NS, ignore_queue=True
        )
