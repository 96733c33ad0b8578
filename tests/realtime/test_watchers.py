"""Sequencing of slot deltas per subscription (pure: no server needed)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from realtime.acks import SocketError
from realtime.protocol import MAX_DOCTORS_PER_SOCKET, DeltaKind, SlotOut
from realtime.watchers import SlotChange, Watchers

DOCTOR = uuid.uuid4()
T0 = datetime(2030, 3, 4, 8, tzinfo=UTC)


def change(version: int, kind: DeltaKind = "booked", hour: int = 9) -> SlotChange:
    start = T0.replace(hour=hour)
    slot = SlotOut(start=start, end=start + timedelta(minutes=30), visit_type="in-person")
    return SlotChange(DOCTOR, kind, None if kind == "resync" else slot, version, T0)


def live_watch(watchers: Watchers, sid: str = "s1", version: int = 5) -> None:
    watch = watchers.add(sid, DOCTOR, T0, T0 + timedelta(hours=4))  # 08:00-12:00
    watch.start_from(version)
    watch.state = "live"


def kinds(watchers: Watchers, *changes: SlotChange) -> list[tuple[str, int] | None]:
    out: list[tuple[str, int] | None] = []
    for c in changes:
        delta = watchers.route(c).get("s1")
        out.append((delta.kind, delta.availability_version) if delta else None)
    return out


def test_versions_in_the_snapshot_are_dropped_and_the_next_ones_delivered() -> None:
    watchers = Watchers()
    live_watch(watchers)
    assert kinds(watchers, change(4), change(5), change(6), change(6, "released"), change(7)) == [
        None,
        None,
        ("booked", 6),
        ("released", 6),  # a second event of the same transaction
        ("booked", 7),
    ]


def test_out_of_range_changes_advance_the_version_silently() -> None:
    watchers = Watchers()
    live_watch(watchers)
    assert kinds(watchers, change(6, hour=15), change(7, hour=10)) == [None, ("booked", 7)]


def test_a_skipped_or_late_version_becomes_one_resync_then_silence() -> None:
    watchers = Watchers()
    live_watch(watchers)
    assert kinds(watchers, change(8), change(9), change(10)) == [("resync", 8), None, None]
    live_watch(watchers, version=10)  # the client subscribes again
    assert kinds(watchers, change(11), change(12), change(11)) == [
        ("booked", 11),
        ("booked", 12),
        ("resync", 11),  # arrived after a newer one: order is unknown, start over
    ]


def test_an_availability_change_is_a_resync() -> None:
    watchers = Watchers()
    live_watch(watchers)
    assert kinds(watchers, change(6, "resync"), change(7)) == [("resync", 6), None]


def test_pending_watches_buffer_until_drained() -> None:
    watchers = Watchers()
    watch = watchers.add("s1", DOCTOR, T0, T0 + timedelta(hours=4))
    assert watchers.route(change(6)) == {} and len(watch.buffer) == 1
    watch.start_from(5)
    delta = watch.apply(watch.buffer.pop(0))
    assert delta is not None and delta.availability_version == 6


def test_each_socket_watches_a_bounded_number_of_doctors() -> None:
    watchers = Watchers()
    for _ in range(MAX_DOCTORS_PER_SOCKET):
        watchers.add("s1", uuid.uuid4(), T0, T0 + timedelta(hours=1))
    with pytest.raises(SocketError) as refused:
        watchers.add("s1", uuid.uuid4(), T0, T0 + timedelta(hours=1))
    assert refused.value.code == "too_many_subscriptions"
    watchers.drop_socket("s1")
    assert watchers.doctors_of("s1") == []
