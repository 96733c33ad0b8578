"""Doctors' availability: read it, replace it atomically, preview the slots a proposal gives."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import timedelta

import asyncpg

from server import clock
from server.audit.service import record_change
from server.auth.principal import Principal
from server.errors import NO_SUCH_DOCTOR, NotFound
from server.readonly import check_identity
from server.scheduling.access import require_availability_editor
from server.scheduling.availability_checks import CheckedAvailability, check_availability
from server.scheduling.availability_schemas import (
    AvailabilityIn,
    AvailabilityOut,
    DateExceptionOut,
    PreviewRequest,
    SchedulingSettingsOut,
    VisitReasonOut,
    WeeklyRuleOut,
)
from server.scheduling.events import emit_availability
from server.scheduling.model import Availability
from server.scheduling.schemas import SlotsPage
from server.scheduling.slots import check_range, free_slots, load_availability, render, zone_of
from storage.scheduling import availability as store
from storage.scheduling.parties import fetch_doctor
from storage.scheduling.versions import bump_version, current_version

PREVIEW_DEFAULT_RANGE = timedelta(days=14)


async def _read(con: asyncpg.Connection, doctor: asyncpg.Record) -> AvailabilityOut:
    doctor_id = doctor["id"]
    stored = await load_availability(con, doctor, past_exceptions=True)
    return AvailabilityOut(
        doctor_id=doctor_id,
        time_zone=doctor["time_zone"],
        availability_version=await current_version(con, doctor_id),
        rules=[WeeklyRuleOut.model_validate(r) for r in stored.rules],
        exceptions=[DateExceptionOut.model_validate(e) for e in stored.exceptions],
        reasons=[VisitReasonOut.model_validate(r) for r in stored.reasons],
        settings=SchedulingSettingsOut.model_validate(stored.settings),
    )


async def get_availability(
    pool: asyncpg.Pool, principal: Principal | None, doctor_id: uuid.UUID
) -> AvailabilityOut:
    """Public for verified doctors; an unverified doctor's only to that doctor and admins."""
    async with pool.acquire() as con, con.transaction(isolation="repeatable_read", readonly=True):
        doctor = await fetch_doctor(con, doctor_id)
        visible = doctor is not None and (
            doctor["verification_status"] == "verified"
            or (
                principal is not None
                and (principal.is_admin or doctor["user_id"] == principal.user_id)
            )
        )
        if doctor is None or not visible:
            raise NotFound(NO_SUCH_DOCTOR)
        return await _read(con, doctor)


async def replace_availability(
    pool: asyncpg.Pool, principal: Principal, doctor_id: uuid.UUID, body: AvailabilityIn
) -> AvailabilityOut:
    """Replace rules, exceptions, reasons and settings in one transaction; bump the version."""
    async with pool.acquire() as con:
        doctor = await require_availability_editor(con, principal, doctor_id)
        check_identity(body, {"doctor_id": doctor_id})
        async with con.transaction():
            version = await bump_version(con, doctor_id)
            checked = check_availability(body, await store.reason_ids(con, doctor_id))
            await store.replace_rules(con, doctor_id, [asdict(r) for r in checked.rules])
            await store.replace_exceptions(con, doctor_id, [asdict(e) for e in checked.exceptions])
            now = clock.now()
            await store.save_reasons(con, doctor_id, [asdict(r) for r in checked.reasons], now)
            await store.save_settings(con, doctor_id, asdict(checked.settings), now)
            await emit_availability(con, doctor_id, version, str(principal.user_id))
            await record_change(con)
            return await _read(con, doctor)


async def preview_availability(
    pool: asyncpg.Pool, principal: Principal, doctor_id: uuid.UUID, body: PreviewRequest
) -> SlotsPage:
    """The slots patients would see if `body.availability` were saved now (nothing is saved)."""
    now = clock.now()
    start = body.from_ or now
    end = body.to or start + PREVIEW_DEFAULT_RANGE
    check_range(start, end)
    async with pool.acquire() as con:
        doctor = await require_availability_editor(con, principal, doctor_id)
        checked: CheckedAvailability = check_availability(
            body.availability, await store.reason_ids(con, doctor_id)
        )
        zone = zone_of(doctor["time_zone"])
        proposal = Availability(
            doctor_id, zone, checked.rules, checked.exceptions, checked.reasons, checked.settings
        )
        async with con.transaction(isolation="repeatable_read", readonly=True):
            version = await current_version(con, doctor_id)
            slots = await free_slots(con, proposal, start, end, now)
    return SlotsPage.model_validate(
        {
            "doctor_id": doctor_id,
            "time_zone": doctor["time_zone"],
            "from": start,
            "to": end,
            "availability_version": version,
            "slots": render(slots, zone),
        }
    )
