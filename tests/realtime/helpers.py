"""Test clients: a recording Socket.IO probe, and a slot mirror kept as docs/realtime.md says."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import socketio

from realtime.protocol import AVAILABILITY_NS, SLOT_DELTA

# Generous bounds on waits (not timing assertions): a loaded CI box is slow, not broken.
WAIT_S = 15.0


@dataclass
class Probe:
    """A Socket.IO client that keeps every server event it receives, per namespace."""

    client: socketio.AsyncClient
    received: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # every recorded event's name, as received
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def record(self, namespace: str, event: str) -> None:
        async def handler(data: Any = None) -> None:
            self.received.setdefault((namespace, event), []).append(data)
            self.order.append(event)
            self.changed.set()

        self.client.on(event, handler, namespace=namespace)

    def got(self, namespace: str, event: str) -> list[Any]:
        return self.received.get((namespace, event), [])

    async def until(self, check: Callable[[], bool], timeout: float = WAIT_S) -> None:
        async with asyncio.timeout(timeout):
            while True:
                self.changed.clear()  # before the check, so an event in between is not lost
                if check():
                    return
                await self.changed.wait()

    async def call(self, namespace: str, event: str, *data: Any) -> Any:
        if len(data) == 1:
            return await self.client.call(event, data[0], namespace=namespace, timeout=WAIT_S)
        # python-socketio's call() takes one argument; a tuple is sent as several.
        return await self.client.call(event, data, namespace=namespace, timeout=WAIT_S)


Key = tuple[datetime, datetime, str]


def slot_key(slot: dict[str, Any]) -> Key:
    """Slots compare as instants: snapshots use the doctor's offset, deltas may use UTC."""
    return (
        datetime.fromisoformat(slot["start"]),
        datetime.fromisoformat(slot["end"]),
        slot["visit_type"],
    )


def page_keys(page: dict[str, Any]) -> set[Key]:
    return {slot_key(s) for s in page["slots"]}


@dataclass
class SlotMirror:
    """Snapshot from the subscribe ack, then deltas in order; resync means subscribe again."""

    probe: Probe
    doctor_id: str
    start: datetime
    end: datetime
    slots: set[Key] = field(default_factory=set)
    snapshot_version: int = 0
    version: int = 0
    applied: int = 0  # deltas of this doctor consumed from probe.got(...)
    resyncs: int = 0

    async def subscribe(self) -> dict[str, Any]:
        window = {"doctor_id": self.doctor_id, "from": self.start.isoformat()}
        ack = await self.probe.call(
            AVAILABILITY_NS, "subscribe", {**window, "to": self.end.isoformat()}
        )
        assert ack["ok"], ack
        self.slots = page_keys(ack["data"])
        self.snapshot_version = self.version = ack["data"]["availability_version"]
        return dict(ack["data"])

    def _deltas(self) -> list[dict[str, Any]]:
        return [
            d
            for d in self.probe.got(AVAILABILITY_NS, SLOT_DELTA)
            if d["doctor_id"] == self.doctor_id
        ]

    async def catch_up(self) -> None:
        """Apply the deltas received so far."""
        deltas = self._deltas()
        while self.applied < len(deltas):
            delta = deltas[self.applied]
            self.applied += 1
            # Already in the snapshot (a previous subscription's delta; python-socketio may run
            # the ack's continuation after events that followed the ack).
            if delta["availability_version"] <= self.snapshot_version:
                continue
            if delta["kind"] == "resync":
                self.resyncs += 1
                await self.subscribe()
                deltas = self._deltas()
                continue
            assert delta["availability_version"] >= self.version, (delta, self.version)
            self.version = delta["availability_version"]
            start, end, _ = key = slot_key(delta["slot"])
            if delta["kind"] in ("released", "added"):
                self.slots.add(key)
            else:  # held, booked, removed: the time is no longer free, whatever the visit type
                self.slots = {s for s in self.slots if not (s[0] < end and s[1] > start)}

    async def until_version(self, version: int) -> None:
        async with asyncio.timeout(WAIT_S):
            while True:
                await self.catch_up()
                if self.version >= version:
                    return
                self.probe.changed.clear()
                if len(self._deltas()) == self.applied:
                    await self.probe.changed.wait()
