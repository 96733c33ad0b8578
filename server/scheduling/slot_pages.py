"""A doctor's free-slots page (contract function list_available_slots), and the same page as
JSON bytes for the HTTP route, made from each remembered day's ready JSON."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from server import clock
from server.auth.principal import Principal
from server.errors import (
    NO_SUCH_APPOINTMENT,
    NO_SUCH_DOCTOR,
    InvalidInput,
    NotFound,
    Unauthenticated,
)
from server.scheduling.access import require_party, resolve_caller
from server.scheduling.errors import SIGN_IN_TO_MOVE, UNKNOWN_TYPE, UNKNOWN_VISIT_TYPE
from server.scheduling.model import VISIT_TYPES, Availability
from server.scheduling.schemas import SlotsPage
from server.scheduling.slot_days import Run, page_json
from server.scheduling.slots import (
    BUSY_MARGIN,
    check_range,
    kept_reason,
    load_availability,
    own_minutes,
    reason_or_error,
    render,
    slots_among,
)
from storage.scheduling import appointments as appointment_store
from storage.scheduling.slots import slots_snapshot


async def _moving(
    con: asyncpg.Connection,
    principal: Principal | None,
    doctor_id: uuid.UUID,
    appointment_id: uuid.UUID,
) -> asyncpg.Record:
    """The caller's own appointment with this doctor that the slots may overlap (a move's list);
    401 when not signed in, 404 when it is not the caller's (nothing about it leaks)."""
    if principal is None:
        raise Unauthenticated(SIGN_IN_TO_MOVE)
    row = await appointment_store.fetch_appointment(con, appointment_id)
    require_party(await resolve_caller(con, principal), row)
    assert row is not None
    if row["doctor_id"] != doctor_id:
        raise NotFound(NO_SUCH_APPOINTMENT)
    return row


@dataclass(frozen=True, slots=True)
class _Free:
    snapshot: asyncpg.Record
    availability: Availability
    slots: Run


async def _free(
    pool: asyncpg.Pool,
    doctor_id: uuid.UUID,
    start: datetime,
    end: datetime,
    visit_type: str | None,
    reason_id: uuid.UUID | None,
    now: datetime | None,
    principal: Principal | None,
    excluding_appointment_id: uuid.UUID | None,
) -> _Free:
    check_range(start, end)
    if visit_type is not None and visit_type not in VISIT_TYPES:
        raise InvalidInput(UNKNOWN_VISIT_TYPE, [UNKNOWN_TYPE.at("type", "query")])
    now = now or clock.now()
    busy_from, busy_to = start - BUSY_MARGIN, end + BUSY_MARGIN
    async with pool.acquire() as con:
        moving = None
        if excluding_appointment_id is not None:
            moving = await _moving(con, principal, doctor_id, excluding_appointment_id)
        # One statement: the version matches exactly the appointments the slots come from.
        snapshot = await slots_snapshot(
            con, doctor_id, busy_from, busy_to, excluding_appointment_id
        )
        if snapshot is None or snapshot["verification_status"] != "verified":
            raise NotFound(NO_SUCH_DOCTOR)
        availability = await load_availability(con, snapshot, stamp=snapshot["rules_stamp"])
        if availability.stamp != snapshot["rules_stamp"]:  # changed in between: agree again
            snapshot = await slots_snapshot(
                con, doctor_id, busy_from, busy_to, excluding_appointment_id
            )
            assert snapshot is not None
    reason = reason_or_error(availability, reason_id, "reason", "query")
    length = None
    if moving is not None:
        reason = reason or kept_reason(availability, moving)
        length = None if reason_id else own_minutes(moving)
    busy = list(zip(snapshot["busy_starts"], snapshot["busy_ends"], strict=True))
    slots = slots_among(availability, start, end, now, busy, visit_type, reason, length)
    return _Free(snapshot, availability, slots)


def _page(free: _Free, start: datetime, end: datetime, **more: object) -> SlotsPage:
    return SlotsPage.model_validate(
        {
            "doctor_id": free.snapshot["id"],
            "time_zone": free.snapshot["time_zone"],
            "from": start,
            "to": end,
            "availability_version": free.snapshot["version"],
            **more,
        }
    )


async def list_available_slots(
    pool: asyncpg.Pool,
    doctor_id: uuid.UUID,
    start: datetime,
    end: datetime,
    visit_type: str | None = None,
    reason_id: uuid.UUID | None = None,
    *,
    now: datetime | None = None,
    principal: Principal | None = None,
    excluding_appointment_id: uuid.UUID | None = None,
) -> SlotsPage:
    """Free slots of a verified doctor; NotFound for unknown or unverified doctors.

    With `excluding_appointment_id` (one of the caller's appointments with this doctor) the
    slots are where it could move: its own time counts as free, and they take its own length
    and its reason's visit types (any type once the reason is retired).
    """
    free = await _free(
        pool, doctor_id, start, end, visit_type, reason_id, now, principal,
        excluding_appointment_id,
    )  # fmt: skip
    return _page(free, start, end, slots=render(free.slots.slots, free.availability.zone))


async def available_slots_json(
    pool: asyncpg.Pool,
    doctor_id: uuid.UUID,
    start: datetime,
    end: datetime,
    visit_type: str | None = None,
    reason_id: uuid.UUID | None = None,
    *,
    patient_cutoff_hours: float | None = None,
    principal: Principal | None = None,
    excluding_appointment_id: uuid.UUID | None = None,
) -> bytes:
    """list_available_slots as the JSON of its SlotsPage (with `patient_cutoff_hours`): the
    slots' JSON is made once per remembered day, so a month's page builds no model per slot
    (trusted data: the grid made it, the schema serialised it)."""
    free = await _free(
        pool, doctor_id, start, end, visit_type, reason_id, None, principal,
        excluding_appointment_id,
    )  # fmt: skip
    page = _page(free, start, end, slots=[], patient_cutoff_hours=patient_cutoff_hours)
    return page_json(page, free.slots.json())
