"""Taking slots: booking (direct or held for payment) and rescheduling, each in one transaction.

Every transaction first bumps the doctor's availability version: the row lock serialises slot
changes per doctor, so the grid / free checks and the insert see a stable agenda. The exclusion
constraints stay the real guard (`overlaps_refused` maps their violations to SlotTaken /
PatientBusy).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import asyncpg

from bus import events
from server import clock
from server.audit.service import record_change
from server.auth.principal import Principal
from server.crypto import FieldCipher
from server.engines import Engines
from server.errors import NO_SUCH_DOCTOR, FieldCode, Forbidden, InvalidInput, NotFound
from server.scheduling.access import Caller, require_party, resolve_caller
from server.scheduling.appointments import encrypt_notes, render_appointment
from server.scheduling.errors import (
    BEYOND_HORIZON,
    BOOK_FOR_SELF,
    EXISTING_PATIENTS_ONLY,
    IN_THE_PAST,
    INSIDE_NOTICE,
    INVALID_BOOKING,
    NOT_ON_GRID,
    PATIENT_OVERLAP,
    PATIENT_REQUIRED,
    PATIENTS_BOOK,
    PROFILE_FIRST,
    SLOT_JUST_TAKEN,
    TYPE_NOT_OFFERED,
    UNCHANGED,
    UNKNOWN_PATIENT,
    NotAcceptingNewPatients,
    PatientBusy,
    SlotTaken,
    SlotUnavailable,
)
from server.scheduling.events import appointment_payload, emit_appointment, emit_slot, slot_payload
from server.scheduling.model import Availability, Slot, VisitReason, VisitType
from server.scheduling.schemas import AppointmentOut, BookingRequest, RescheduleRequest
from server.scheduling.slots import (
    grid_slot,
    kept_reason,
    load_availability,
    nearest_free_slots,
    own_minutes,
    reason_or_error,
    without_busy,
)
from server.scheduling.state_machine import Party, check_transition
from storage.errors import ConstraintViolation
from storage.scheduling import appointments as store
from storage.scheduling.parties import fetch_doctor, patient_exists
from storage.scheduling.versions import bump_version


def _field_error(field: str, code: FieldCode, **params: str | int) -> InvalidInput:
    return InvalidInput(INVALID_BOOKING, [code.at(field, "body", **params)])


async def _booking_patient(
    con: asyncpg.Connection, caller: Caller, requested: uuid.UUID | None
) -> uuid.UUID:
    """Patients book for themselves; admins name the patient; doctors do not book."""
    if caller.principal.is_admin:
        if requested is None:
            raise _field_error("patient_id", PATIENT_REQUIRED)
        if not await patient_exists(con, requested):
            raise _field_error("patient_id", UNKNOWN_PATIENT)
        return requested
    if caller.principal.role != "patient":
        raise Forbidden(PATIENTS_BOOK)
    if caller.patient_id is None:
        raise Forbidden(PROFILE_FIRST)
    if requested is not None and requested != caller.patient_id:
        raise Forbidden(BOOK_FOR_SELF)
    return caller.patient_id


def bookable_slot(
    availability: Availability,
    start: datetime,
    visit_type: VisitType,
    reason: VisitReason | None,
    now: datetime,
    length_minutes: int | None = None,
) -> Slot:
    """The grid slot at `start`: 422 for past / too soon / too far, 409 when off the grid.
    `length_minutes` (a moved visit's own length) overrides the reason's duration."""
    settings = availability.settings
    if start < now:
        raise _field_error("start", IN_THE_PAST)
    if start < now + settings.notice:
        raise _field_error("start", INSIDE_NOTICE, min_notice_minutes=settings.min_notice_minutes)
    if start >= now + settings.horizon:
        raise _field_error("start", BEYOND_HORIZON, max_horizon_days=settings.max_horizon_days)
    if reason is not None and visit_type not in reason.visit_types:
        raise _field_error("visit_type", TYPE_NOT_OFFERED)
    slot = grid_slot(availability, start, visit_type, reason, length_minutes)
    if slot is None:
        raise SlotUnavailable(NOT_ON_GRID)
    return slot


async def ensure_free(
    con: asyncpg.Connection,
    availability: Availability,
    slot: Slot,
    exclude_id: uuid.UUID | None = None,
) -> None:
    margin = availability.settings.buffer + timedelta(hours=1)
    busy = await store.busy_periods(
        con, availability.doctor_id, slot.start - margin, slot.end + margin, exclude_id
    )
    if not without_busy([slot], busy, availability.settings.buffer):
        raise SlotTaken(SLOT_JUST_TAKEN)


async def _check_new_patient(
    con: asyncpg.Connection,
    doctor: asyncpg.Record,
    reason: VisitReason | None,
    patient_id: uuid.UUID,
) -> None:
    closed = not doctor["accepts_new_patients"] or (
        reason is not None and not reason.new_patients_allowed
    )
    if closed and not await store.has_history_with(con, doctor["id"], patient_id):
        raise NotAcceptingNewPatients(EXISTING_PATIENTS_ONLY)


@contextmanager
def overlaps_refused() -> Iterator[None]:
    """The schema's exclusion constraints refused an overlap: say which, in the domain's words."""
    try:
        yield
    except ConstraintViolation as exc:
        if exc.constraint == store.DOCTOR_OVERLAP:
            raise SlotTaken(SLOT_JUST_TAKEN) from exc
        raise PatientBusy(PATIENT_OVERLAP) from exc


async def book_appointment(
    engines: Engines, principal: Principal, body: BookingRequest
) -> AppointmentOut:
    settings, cipher = engines.settings, FieldCipher(engines.settings)
    now = clock.now()
    appointment_id = uuid.uuid4()
    async with engines.pool.acquire() as con:
        caller = await resolve_caller(con, principal)
        patient_id = await _booking_patient(con, caller, body.patient_id)
        doctor = await fetch_doctor(con, body.doctor_id)
        if doctor is None or doctor["verification_status"] != "verified":
            raise NotFound(NO_SUCH_DOCTOR)
        try:
            # Losers of a rush see the winner's row here and skip the queue on the doctor's lock.
            if await store.taken_at(con, doctor["id"], body.start):
                raise SlotTaken(SLOT_JUST_TAKEN)
            async with con.transaction():
                version = await bump_version(con, doctor["id"])
                availability = await load_availability(con, doctor)
                reason = reason_or_error(availability, body.reason_id)
                await _check_new_patient(con, doctor, reason, patient_id)
                slot = bookable_slot(availability, body.start, body.visit_type, reason, now)
                await ensure_free(con, availability, slot)
                fee = doctor["consultation_fee"]
                if reason is not None and reason.fee_override is not None:
                    fee = reason.fee_override
                held = settings.payments_required and fee > 0
                expires = now + timedelta(seconds=settings.hold_ttl_s) if held else None
                with overlaps_refused():
                    await store.insert_appointment(
                        con,
                        store.NewAppointment(
                            id=appointment_id,
                            doctor_id=doctor["id"],
                            patient_id=patient_id,
                            start=slot.start,
                            end=slot.end,
                            visit_type=slot.visit_type,
                            status="held" if held else "scheduled",
                            reason_id=reason.id if reason else None,
                            location=slot.location,
                            notes=encrypt_notes(cipher, appointment_id, body.notes),
                            fee=fee,
                            currency=doctor["currency"],
                            hold_expires_at=expires,
                            created_by=principal.user_id,
                        ),
                    )
                row = await store.fetch_appointment(con, appointment_id)
                assert row is not None
                slot_event = events.SLOT_HELD if held else events.SLOT_BOOKED
                await emit_slot(con, slot_event, slot_payload(row, version), caller.actor)
                await emit_appointment(
                    con, events.APPOINTMENT_CREATED, appointment_payload(row, version), caller.actor
                )
                await record_change(con, resource_id=appointment_id)
        except (SlotTaken, SlotUnavailable) as exc:
            exc.extra["alternatives"] = await nearest_free_slots(
                con, doctor, body.start, body.visit_type, body.reason_id
            )
            raise
    party: Party = "admin" if principal.is_admin else "patient"
    return render_appointment(row, cipher, settings, party)


async def reschedule_appointment(
    engines: Engines, principal: Principal, appointment_id: uuid.UUID, body: RescheduleRequest
) -> AppointmentOut:
    """Move to another free slot: the new time is taken and the old released in one UPDATE.

    The appointment keeps its own length and reason, even once the doctor retired the reason
    or changed its duration (a retired reason no longer limits the visit type).
    """
    now = clock.now()
    async with engines.pool.acquire() as con:
        caller = await resolve_caller(con, principal)
        current = await store.fetch_appointment(con, appointment_id)
        party = require_party(caller, current)
        assert current is not None
        visit_type: VisitType = body.visit_type or current["visit_type"]
        doctor = await fetch_doctor(con, current["doctor_id"])
        assert doctor is not None
        try:
            async with con.transaction():
                version = await bump_version(con, doctor["id"])
                status = await store.lock_appointment(con, appointment_id)
                old = await store.fetch_appointment(con, appointment_id)
                assert status is not None and old is not None
                cutoff = timedelta(hours=engines.settings.patient_cancel_cutoff_h)
                target = check_transition("reschedule", party, status, old["start_at"], now, cutoff)
                availability = await load_availability(con, doctor)
                reason = kept_reason(availability, old)
                slot = bookable_slot(
                    availability, body.start, visit_type, reason, now, own_minutes(old)
                )
                if slot.start == old["start_at"] and slot.visit_type == old["visit_type"]:
                    raise _field_error("start", UNCHANGED)
                await ensure_free(con, availability, slot, exclude_id=appointment_id)
                with overlaps_refused():
                    await store.move_appointment(
                        con,
                        appointment_id,
                        slot.start,
                        slot.end,
                        slot.visit_type,
                        slot.location,
                        target,
                    )
                row = await store.fetch_appointment(con, appointment_id)
                assert row is not None
                previous = (old["start_at"], old["end_at"])
                released = slot_payload(old, version, *previous)
                await emit_slot(con, events.SLOT_RELEASED, released, caller.actor)
                await emit_slot(con, events.SLOT_BOOKED, slot_payload(row, version), caller.actor)
                await emit_appointment(
                    con,
                    events.APPOINTMENT_RESCHEDULED,
                    appointment_payload(row, version, previous=previous, reason=body.reason),
                    caller.actor,
                )
                await record_change(con)
        except (SlotTaken, SlotUnavailable) as exc:
            exc.extra["alternatives"] = await nearest_free_slots(
                con,
                doctor,
                body.start,
                visit_type,
                current["reason_id"],
                appointment_id,
                length_minutes=own_minutes(current),
            )
            raise
    return render_appointment(row, FieldCipher(engines.settings), engines.settings, party)
