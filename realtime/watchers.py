"""Who on this node watches which doctor's slots, and which delta each watcher must get.

Per-node, per-socket state only (it dies with the socket): every node consumes every slot
event, so each node decides for its own sockets. A subscription ("watch") is sequenced by the
doctor's availability_version so a client never needs to reason about versions itself:

- deltas already contained in the subscription's snapshot (version <= snapshot) are dropped;
- the next version, or more events of the same version (one transaction), are delivered when
  their slot overlaps the watched range;
- anything else (a version skipped or arriving late, e.g. two relays publishing out of order)
  turns into one `resync` delta, after which the watch stays silent until the client
  subscribes again and gets a fresh snapshot.

While the snapshot is being read the watch is "pending" and buffers changes; the subscribe
handler drains the buffer after its acknowledgement, so deltas never precede the snapshot.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Literal

from realtime.acks import SocketError
from realtime.protocol import MAX_DOCTORS_PER_SOCKET, DeltaKind, SlotDelta, SlotOut

WatchState = Literal["pending", "live", "stale"]


@dataclass(frozen=True)
class SlotChange:
    """One availability event as the watchers see it; `slot` is None for a resync."""

    doctor_id: uuid.UUID
    kind: DeltaKind
    slot: SlotOut | None
    version: int
    occurred_at: datetime

    # One model per change, shared by every watcher it reaches (a node routes one change to
    # thousands of sockets); never mutated once made.
    @cached_property
    def delta(self) -> SlotDelta:
        """The change as its watchers get it."""
        return self._as(self.kind)

    @cached_property
    def resync(self) -> SlotDelta:
        """The `resync` delta a watch gets when this change is out of its sequence."""
        return self._as("resync")

    def _as(self, kind: DeltaKind) -> SlotDelta:
        return SlotDelta(
            doctor_id=self.doctor_id,
            kind=kind,
            slot=None if kind == "resync" else self.slot,
            availability_version=self.version,
            occurred_at=self.occurred_at,
        )


@dataclass(eq=False)
class Watch:
    sid: str
    doctor_id: uuid.UUID
    start: datetime
    end: datetime
    state: WatchState = "pending"
    base: int = 0  # the snapshot's availability_version
    version: int = 0  # the last version this watch has accounted for
    buffer: list[SlotChange] = field(default_factory=list)

    def start_from(self, snapshot_version: int) -> None:
        self.base = self.version = snapshot_version

    def apply(self, change: SlotChange) -> SlotDelta | None:
        """Advance the watch past `change`; the delta to send this socket, if any."""
        if self.state == "stale" or change.version <= self.base:
            return None
        if change.version in (self.version, self.version + 1):
            self.version = change.version
            if change.kind == "resync":
                self.state = "stale"
                return change.delta
            return change.delta if self._overlaps(change.slot) else None
        self.state = "stale"
        return change.resync

    def _overlaps(self, slot: SlotOut | None) -> bool:
        return slot is not None and slot.start < self.end and slot.end > self.start


class Watchers:
    """Index of this node's watches by doctor and by socket."""

    def __init__(self) -> None:
        self._by_doctor: dict[uuid.UUID, dict[str, Watch]] = {}
        self._by_sid: dict[str, dict[uuid.UUID, Watch]] = {}

    def add(self, sid: str, doctor_id: uuid.UUID, start: datetime, end: datetime) -> Watch:
        """A new pending watch; replaces the socket's previous watch of that doctor."""
        mine = self._by_sid.setdefault(sid, {})
        if doctor_id not in mine and len(mine) >= MAX_DOCTORS_PER_SOCKET:
            raise SocketError(
                "too_many_subscriptions",
                f"A socket may watch at most {MAX_DOCTORS_PER_SOCKET} doctors; unsubscribe first.",
            )
        watch = Watch(sid, doctor_id, start, end)
        mine[doctor_id] = watch
        self._by_doctor.setdefault(doctor_id, {})[sid] = watch
        return watch

    def current(self, watch: Watch) -> bool:
        return self._by_sid.get(watch.sid, {}).get(watch.doctor_id) is watch

    def remove(self, sid: str, doctor_id: uuid.UUID) -> bool:
        watch = self._by_sid.get(sid, {}).pop(doctor_id, None)
        if watch is None:
            return False
        room = self._by_doctor.get(doctor_id, {})
        room.pop(sid, None)
        if not room:
            self._by_doctor.pop(doctor_id, None)
        return True

    def drop_socket(self, sid: str) -> None:
        for doctor_id in list(self._by_sid.get(sid, {})):
            self.remove(sid, doctor_id)
        self._by_sid.pop(sid, None)

    def doctors_of(self, sid: str) -> list[uuid.UUID]:
        return list(self._by_sid.get(sid, {}))

    def route(self, change: SlotChange) -> dict[str, SlotDelta]:
        """Deltas per socket for one change; pending watches buffer it instead."""
        out: dict[str, SlotDelta] = {}
        for sid, watch in self._by_doctor.get(change.doctor_id, {}).items():
            if watch.state == "pending":
                watch.buffer.append(change)
                continue
            delta = watch.apply(change)
            if delta is not None:
                out[sid] = delta
        return out

    def watching(self, doctor_id: uuid.UUID) -> int:
        return len(self._by_doctor.get(doctor_id, {}))
