"""/availability: watch a doctor's free slots live (snapshot in the ack, then `slot.delta`).

Anonymous sockets are welcome: free slots are public. Sequencing rules live in watchers.py.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from bus import events
from bus.events import Envelope
from realtime.acks import SocketError
from realtime.base import Channel
from realtime.protocol import (
    AVAILABILITY_NS,
    MAX_RANGE,
    SLOT_DELTA,
    SUBSCRIBE,
    UNSUBSCRIBE,
    DeltaKind,
    SlotDelta,
    SlotOut,
    SubscribeIn,
    UnsubscribeIn,
)
from realtime.watchers import SlotChange, Watch
from server.scheduling.service import SlotsPage, list_available_slots

if TYPE_CHECKING:
    from realtime.hub import Realtime

_SLOT_KINDS: dict[str, DeltaKind] = {
    events.SLOT_HELD: "held",
    events.SLOT_BOOKED: "booked",
    events.SLOT_RELEASED: "released",
}
AVAILABILITY_EVENTS = frozenset({*_SLOT_KINDS, events.DOCTOR_AVAILABILITY_UPDATED})


# Up to this many recipients are sent one by one; more share one encoded room emit.
_FEW = 8


def availability_room(doctor_id: uuid.UUID) -> str:
    return f"availability:{doctor_id}"


class _VersionData(BaseModel):
    """The fields of slot.* and doctor.availability.updated payloads this channel reads."""

    model_config = ConfigDict(extra="ignore")

    doctor_id: uuid.UUID
    availability_version: int
    start: datetime | None = None
    end: datetime | None = None
    visit_type: str | None = None


def slot_change(envelope: Envelope) -> SlotChange:
    data = _VersionData.model_validate(envelope.data)
    kind = _SLOT_KINDS.get(envelope.type, "resync")
    slot = None
    if kind != "resync" and data.start and data.end and data.visit_type:
        slot = SlotOut(start=data.start, end=data.end, visit_type=data.visit_type)
    return SlotChange(data.doctor_id, kind, slot, data.availability_version, envelope.occurred_at)


class AvailabilityChannel(Channel):
    path = AVAILABILITY_NS
    allow_anonymous = True
    client_events = frozenset({SUBSCRIBE, UNSUBSCRIBE})

    def __init__(self, hub: Realtime) -> None:
        super().__init__(hub)
        self._drains: set[asyncio.Task[None]] = set()

    async def on_subscribe(self, sid: str, data: Any) -> SlotsPage:
        return await subscribe(self, sid, SubscribeIn.model_validate(data))

    async def on_unsubscribe(self, sid: str, data: Any) -> dict[str, Any]:
        request = UnsubscribeIn.model_validate(data)
        removed = self.hub.watchers.remove(sid, request.doctor_id)
        await self.leave_room(sid, availability_room(request.doctor_id))
        return {"doctor_id": str(request.doctor_id), "subscribed": False, "was_subscribed": removed}

    async def on_disconnected(self, sid: str) -> None:
        self.hub.watchers.drop_socket(sid)

    def drain_after_ack(self, watch: Watch) -> None:
        # python-socketio queues the ack as soon as the handler returns, without yielding to
        # the loop; a task created now runs after that, so buffered deltas follow the snapshot.
        task = asyncio.get_running_loop().create_task(drain(self.hub, watch))
        self._drains.add(task)
        task.add_done_callback(self._drains.discard)

    async def close(self) -> None:
        for task in list(self._drains):
            task.cancel()
        await asyncio.gather(*self._drains, return_exceptions=True)


async def subscribe(channel: AvailabilityChannel, sid: str, request: SubscribeIn) -> SlotsPage:
    if request.end - request.start > MAX_RANGE:
        raise SocketError("range_too_long", f"Watch at most {MAX_RANGE.days} days at a time.")
    hub = channel.hub
    # Register (buffering) before reading the snapshot, so no change can fall in between.
    watch = hub.watchers.add(sid, request.doctor_id, request.start, request.end)
    room = availability_room(request.doctor_id)
    await channel.enter_room(sid, room)
    try:
        page = await list_available_slots(
            hub.engines.pool,
            request.doctor_id,
            request.start,
            request.end,
            principal=channel.principals.get(sid),
            excluding_appointment_id=request.excluding_appointment_id,
        )
    except BaseException:
        if hub.watchers.current(watch):
            hub.watchers.remove(sid, request.doctor_id)
            await channel.leave_room(sid, room)
        raise
    watch.start_from(page.availability_version)
    channel.drain_after_ack(watch)
    return page


async def drain(hub: Realtime, watch: Watch) -> None:
    """Send what a pending watch buffered during its snapshot, then make it live."""
    while watch.buffer and hub.watchers.current(watch):
        delta = watch.apply(watch.buffer.pop(0))
        if delta is not None:
            await _emit(hub, watch.doctor_id, delta, only=[watch.sid])
    if watch.state == "pending":
        watch.state = "live"


async def publish_change(hub: Realtime, change: SlotChange) -> None:
    """Emit one change to the watchers on this node that must see it (one encode per shape)."""
    deltas = hub.watchers.route(change)
    shapes: dict[DeltaKind, tuple[SlotDelta, list[str]]] = {}
    for sid, delta in deltas.items():
        shapes.setdefault(delta.kind, (delta, []))[1].append(sid)
    for delta, sids in shapes.values():
        await _emit(hub, change.doctor_id, delta, only=sids)


async def _emit(hub: Realtime, doctor_id: uuid.UUID, delta: SlotDelta, only: list[str]) -> None:
    payload = delta.model_dump(mode="json")
    # Local sockets only (ignore_queue): every node runs this for the same event (see hub.py).
    if len(only) <= _FEW:
        for sid in only:
            await hub.sio.emit(
                SLOT_DELTA, payload, to=sid, namespace=AVAILABILITY_NS, ignore_queue=True
            )
        return
    room = availability_room(doctor_id)
    wanted = set(only)
    skip = [
        sid
        for sid, _ in hub.sio.manager.get_participants(AVAILABILITY_NS, room)
        if sid not in wanted
    ]
    await hub.sio.emit(
        SLOT_DELTA,
        payload,
        room=room,
        skip_sid=skip,
        namespace=AVAILABILITY_NS,
        ignore_queue=True,
    )
