"""Running late and queue position: when a patient's visit is expected to start, and how many
visits of the doctor's day come before it.

The delay is the larger of what the doctor (or an admin, for the front desk) declared for the
day and what the clock shows: the earliest visit of the day that started and is still not
completed (the one in progress) has, past its end, overrun by now − its end. Completing it
removes that part at once (the next read).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg

from bus import events
from bus.outbox import emit
from server import clock
from server.audit.service import record_change
from server.auth.principal import Principal
from server.engines import Engines
from server.errors import NO_SUCH_APPOINTMENT, NO_SUCH_DOCTOR, NotFound
from server.scheduling.access import require_party, resolve_caller
from server.scheduling.slots import zone_of
from server.waitlist.events import QueueUpdated
from server.waitlist.schemas import DelayOut, QueueOut
from storage import queue as store
from storage.scheduling.appointments import fetch_appointment


@dataclass(frozen=True)
class Estimate:
    position: int  # 1: next (or now) in the doctor's queue
    inferred_minutes: int
    expected_start: datetime


def estimate(
    day: Sequence[Mapping[str, Any]],
    target: uuid.UUID,
    start: datetime,
    now: datetime,
    declared: int,
) -> Estimate:
    """`day`: storage.queue.day_appointments rows; `start` is the target's own start."""
    ahead = sum(1 for row in day if row["start_at"] < start and row["id"] != target)
    started = [row for row in day if row["start_at"] <= now]
    inferred = 0
    if started:
        # Visits are seen in order: the earliest still booked is the one in progress.
        current = min(started, key=lambda row: row["start_at"])
        if current["end_at"] < now and current["id"] != target:
            inferred = int((now - current["end_at"]).total_seconds() // 60)
    delay = max(declared, inferred)
    return Estimate(ahead + 1, inferred, start + timedelta(minutes=delay))


async def _day(
    con: asyncpg.Connection, doctor_id: uuid.UUID, zone_name: str, local_day: date
) -> list[asyncpg.Record]:
    day_start = datetime.combine(local_day, datetime.min.time(), tzinfo=zone_of(zone_name))
    return await store.day_appointments(con, doctor_id, day_start, day_start + timedelta(days=1))


async def announce_queue(
    con: asyncpg.Connection, doctor_id: uuid.UUID, at: datetime, actor: str | None
) -> None:
    """In the caller's transaction: queue.updated for the patients of the doctor's day of `at`
    (nothing when that day has no booked visit left)."""
    zone_name = await store.doctor_zone(con, doctor_id)
    if zone_name is None:
        return
    local_day = at.astimezone(zone_of(zone_name)).date()
    day = await _day(con, doctor_id, zone_name, local_day)
    # Everyone acting for each patient; nobody for an erased relative without a proxy.
    users = sorted({user for row in day for user in row["acting_user_ids"]})
    if users:
        update = QueueUpdated(doctor_id=doctor_id, on_day=local_day, patient_user_ids=users)
        await emit(
            con, events.QUEUE_UPDATED, f"doctor:{doctor_id}", update, actor=actor, at=clock.now()
        )


async def appointment_queue(
    engines: Engines, principal: Principal, appointment_id: uuid.UUID
) -> QueueOut:
    """The appointment's place in its doctor's day; its patient, doctor or an admin, else 404."""
    now = clock.now()
    async with engines.pool.acquire() as con:
        caller = await resolve_caller(con, principal)
        row = await fetch_appointment(con, appointment_id)
        require_party(caller, row)
        assert row is not None
        local_day = row["start_at"].astimezone(zone_of(row["time_zone"])).date()
        day = await _day(con, row["doctor_id"], row["time_zone"], local_day)
        declared = await store.declared_delay(con, row["doctor_id"], local_day)
    if row["status"] not in ("scheduled", "confirmed"):
        raise NotFound(NO_SUCH_APPOINTMENT)  # nothing to wait for
    found = estimate(day, appointment_id, row["start_at"], now, declared)
    return QueueOut(
        appointment_id=appointment_id,
        position=found.position,
        declared_minutes=declared,
        inferred_minutes=found.inferred_minutes,
        delay_minutes=max(declared, found.inferred_minutes),
        start=row["start_at"],
        expected_start=found.expected_start,
    )


async def declare_running_late(
    engines: Engines, principal: Principal, doctor_id: uuid.UUID, minutes: int
) -> DelayOut:
    """The doctor themself or an admin: running `minutes` late today (the doctor's zone)."""
    now = clock.now()
    async with engines.pool.acquire() as con:
        caller = await resolve_caller(con, principal)
        zone_name = await store.doctor_zone(con, doctor_id)
        if zone_name is None or (not principal.is_admin and caller.doctor_id != doctor_id):
            raise NotFound(NO_SUCH_DOCTOR)
        today = now.astimezone(zone_of(zone_name)).date()
        async with con.transaction():
            await store.declare_delay(con, doctor_id, minutes, today, now)
            await announce_queue(con, doctor_id, now, str(principal.user_id))
            await record_change(con)
    return DelayOut(doctor_id=doctor_id, minutes=minutes, on_day=today)
