"""Taking slots: booking (direct or held for payment) and rescheduling, each in one transaction.

Every transaction first bumps the doctor's availability version: the row lock serialises slot
changes per doctor, so the free checks and the write see a stable agenda, and the doctor's events
reach the outbox in version order. The exclusion constraints stay the real guard
(`overlaps_refused` maps their violations to SlotTaken / PatientBusy).

A patient's booking takes two round trips: one statement checks the session and reads what the
booking needs (storage.scheduling.booking.booking_context), the availability comes from memory
under its stamp, the grid checks run here, and one autocommit statement books
(scheduling.book_slot_audited): version lock, stamp and free checks, insert, events, the
request's audit entry. The lock is held for that statement and its commit only; a rush's losers
fail on the function's cheap free check, or before it on `taken`, or, on one node, on the outcome
of the booking already running there.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import asyncpg

from bus import events
from server import clock
from server.audit.service import (
    AuditUnavailable,
    change_entry,
    change_recorded,
    record_change,
)
from server.auth.principal import Claim, Principal, grouped_check
from server.crypto import EncryptedField, FieldCipher
from server.engines import Engines
from server.errors import (
    NO_SUCH_APPOINTMENT,
    NO_SUCH_DOCTOR,
    FieldCode,
    Forbidden,
    InvalidInput,
    NotFound,
)
from server.scheduling.access import acts_as_proxy, require_party, resolve_caller
from server.scheduling.appointments import encrypt_notes, render_appointment
from server.scheduling.errors import (
    BEYOND_HORIZON,
    BOOK_FOR_SELF,
    EXISTING_PATIENTS_ONLY,
    HOURS_CHANGING,
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
from server.scheduling.events import (
    appointment_event,
    appointment_payload,
    emit_appointment,
    emit_slot,
    slot_event,
    slot_payload,
)
from server.scheduling.model import Availability, Slot, VisitReason, VisitType
from server.scheduling.proxy import record_proxy_action
from server.scheduling.release import release_slot
from server.scheduling.schemas import AppointmentOut, BookedBy, BookingRequest, RescheduleRequest
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
from server.settings import Settings
from storage.errors import AuditNotWritten, ConstraintViolation, StaleRead
from storage.group import Grouped
from storage.relatives import booking_link, share_link
from storage.scheduling import appointments as store
from storage.scheduling.booking import book_slot, booking_context, waiting_patients
from storage.scheduling.parties import fetch_doctor
from storage.scheduling.versions import bump_version

log = logging.getLogger(__name__)


def _field_error(field: str, code: FieldCode, **params: str | int) -> InvalidInput:
    return InvalidInput(INVALID_BOOKING, [code.at(field, "body", **params)])


def _booking_patient(
    principal: Principal, requested: uuid.UUID | None, found: uuid.UUID | None
) -> uuid.UUID:
    """Patients book for themselves; admins name the patient; doctors do not book. `found` is
    the patient `requested` names (admins) or the caller's own (patients), None when none."""
    if principal.is_admin:
        if requested is None:
            raise _field_error("patient_id", PATIENT_REQUIRED)
        if found is None:
            raise _field_error("patient_id", UNKNOWN_PATIENT)
        return found
    if principal.role != "patient":
        raise Forbidden(PATIENTS_BOOK)
    if found is None:
        raise Forbidden(PROFILE_FIRST)
    if requested is not None and requested != found:
        raise Forbidden(BOOK_FOR_SELF)
    return found


async def _proxy_link(
    con: asyncpg.Connection, principal: Principal, requested: uuid.UUID | None
) -> asyncpg.Record | None:
    """A patient naming a patient_id books for a relative they manage (issue #24): the one
    extra check a proxy booking costs. None: book as usual (for oneself, or as admin)."""
    if principal.is_admin or principal.role != "patient" or requested is None:
        return None
    link = await booking_link(con, principal.user_id, requested)
    if link is None:
        raise Forbidden(BOOK_FOR_SELF)
    return link if link["relationship"] is not None else None


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


def _check_new_patient(doctor: asyncpg.Record, reason: VisitReason | None) -> None:
    """`doctor`: a booking_context row (its `seen_before` is about the booking patient)."""
    closed = not doctor["accepts_new_patients"] or (
        reason is not None and not reason.new_patients_allowed
    )
    if closed and not doctor["seen_before"]:
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
    engines: Engines, caller: Principal | Claim, body: BookingRequest
) -> AppointmentOut:
    """Book `body`'s slot. A patient's Claim is checked in the booking's first read, not in a
    statement of its own (an ended session: 401 before anything else is said).

    A rush for one slot on this node is single-flight: while one booking of the slot runs, the
    patients asking for it too wait for its outcome instead of racing it to the database; once
    it took the slot (or found it taken) they get the 409 at once, with the alternatives it is
    computing, else (refused for its own reasons: notice, its patient busy, ...) each books as
    usual. Across nodes the database decides, as before."""
    key = (body.doctor_id, body.start)
    leader = _booking_now.get(key)
    # Patients booking for themselves wait; a proxy's link is checked by its own booking.
    if leader is not None and _as_claimed(caller).role == "patient" and body.patient_id is None:
        taken = await asyncio.shield(leader)
        # A waiter has no read to fold its session check into: checked once the outcome is
        # known, so the rush's checks never delay the booking they wait for, and share a
        # statement (storage.group). An ended session learns nothing of the slot (401); a
        # caller without a patient profile books as usual (and is refused for that, 403).
        role, profiled = await grouped_check(_waiters, engines, _as_claimed(caller))
        if isinstance(caller, Claim):
            caller = caller.confirm(role)
        if taken is not None and caller.role == "patient" and profiled:
            lost = SlotTaken(SLOT_JUST_TAKEN)
            # The pool, not a connection: the rush waits for one answer holding none.
            lost.extra["alternatives"] = await nearest_free_slots(
                engines.pool, taken, body.start, body.visit_type, body.reason_id,
                stamp=taken["rules_stamp"],
            )  # fmt: skip
            raise lost
    outcome: asyncio.Future[asyncpg.Record | None] = asyncio.get_running_loop().create_future()
    _booking_now.setdefault(key, outcome)
    seen: list[asyncpg.Record] = []
    try:
        return await _book_appointment(engines, caller, body, seen)
    finally:
        outcome.set_result(seen[0] if seen else None)
        if _booking_now.get(key) is outcome:
            del _booking_now[key]


_waiters = Grouped(waiting_patients)

# The bookings running on this node by (doctor, start): each resolves to the booking context
# once the slot is known to be taken (booked by it or by another), else None.
_booking_now: dict[tuple[uuid.UUID, datetime], asyncio.Future[asyncpg.Record | None]] = {}


def _as_claimed(caller: Principal | Claim) -> Principal:
    return caller.claimed if isinstance(caller, Claim) else caller


async def _book_appointment(
    engines: Engines,
    caller: Principal | Claim,
    body: BookingRequest,
    taken: list[asyncpg.Record],
) -> AppointmentOut:
    """The booking itself; `taken` gets the booking context once the slot is known taken."""
    settings, cipher = engines.settings, FieldCipher(engines.settings)
    now = clock.now()
    claim = caller if isinstance(caller, Claim) else None
    # Only a patient booking for themselves checks the session in the context read: admins
    # and proxies need their checked role (and link) before it, at one statement more.
    if claim is not None and (claim.claimed.role != "patient" or body.patient_id is not None):
        caller, claim = await claim.check(engines), None
    claimed = _as_claimed(caller)
    appointment_id = uuid.uuid4()
    notes = encrypt_notes(cipher, appointment_id, body.notes)
    async with engines.pool.acquire() as con:
        link = None if claim is not None else await _proxy_link(con, claimed, body.patient_id)
        proxied = body.patient_id if link is not None else None
        for _attempt in range(_STALE_RETRIES):
            context = await booking_context(
                con,
                body.doctor_id,
                body.start,
                patient_user_id=None if claimed.is_admin else claimed.user_id,
                patient_id=body.patient_id if claimed.is_admin else proxied,
                session=(claimed.session_id, claimed.user_id, now) if claim else None,
            )
            principal = claimed
            if claim is not None:
                principal = claim.confirm(context["session_role"])
                if principal.role != claimed.role:  # the account's role is not the token's
                    break
            if proxied is not None:
                patient_id = context["patient_id"]
                if patient_id is None:  # erased meanwhile
                    raise Forbidden(BOOK_FOR_SELF)
            else:
                patient_id = _booking_patient(principal, body.patient_id, context["patient_id"])
            if context["id"] is None or context["verification_status"] != "verified":
                raise NotFound(NO_SUCH_DOCTOR)
            try:
                # Losers of a rush see the winner's row here: no queue on the doctor's lock.
                if context["taken"]:
                    raise SlotTaken(SLOT_JUST_TAKEN)
                availability = await load_availability(con, context, stamp=context["rules_stamp"])
                new = _new_appointment(
                    settings,
                    context,
                    availability,
                    body,
                    appointment_id,
                    patient_id,
                    notes,
                    principal.user_id,
                    now,
                )
                try:
                    row = await _book(con, new, availability, principal, proxied is not None)
                except StaleRead:  # the doctor changed the hours meanwhile: check them again
                    continue
                taken.append(context)
            except (SlotTaken, SlotUnavailable) as exc:
                if isinstance(exc, SlotTaken):
                    taken.append(context)
                exc.extra["alternatives"] = await nearest_free_slots(
                    con,
                    context,
                    body.start,
                    body.visit_type,
                    body.reason_id,
                    stamp=context["rules_stamp"],
                )
                raise
            party: Party = "admin" if principal.is_admin else "patient"
            booked = render_appointment(row, cipher, settings, party)
            if link is not None:  # book_slot's row has no booked_by_* (migration 0023)
                booked.booked_by = BookedBy(
                    id=principal.user_id,
                    name=link["proxy_name"] or "",
                    relationship=link["relationship"],
                )
            return booked
        else:
            changing = SlotUnavailable(HOURS_CHANGING)
            changing.extra["alternatives"] = []
            raise changing
    # Out of the loop by `break`: book again as the account's role says, its session confirmed.
    return await _book_appointment(engines, principal, body, taken)


# A booking meets hours changing under it at most this often before giving up (a 409).
_STALE_RETRIES = 3


def _new_appointment(
    settings: Settings,
    doctor: asyncpg.Record,
    availability: Availability,
    body: BookingRequest,
    appointment_id: uuid.UUID,
    patient_id: uuid.UUID,
    notes: EncryptedField | None,
    created_by: uuid.UUID,
    now: datetime,
) -> store.NewAppointment:
    """The appointment `body` asks for once the rules allow it: a grid slot, within notice and
    horizon, a reason offered for the visit type and open to this patient; held when it is to
    be paid first."""
    reason = reason_or_error(availability, body.reason_id)
    _check_new_patient(doctor, reason)
    slot = bookable_slot(availability, body.start, body.visit_type, reason, now)
    fee = doctor["consultation_fee"]
    if reason is not None and reason.fee_override is not None:
        fee = reason.fee_override
    # A pay-at-visit reason books at once, unless the practice asks this patient to pay first
    # (no-show threshold, issue #22): then it is held for the checkout like any paid visit.
    pays_first = reason is None or not reason.pay_at_visit or bool(doctor["prepay_required"])
    held = settings.payments_required and fee > 0 and pays_first
    return store.NewAppointment(
        id=appointment_id,
        doctor_id=doctor["id"],
        patient_id=patient_id,
        start=slot.start,
        end=slot.end,
        visit_type=slot.visit_type,
        status="held" if held else "scheduled",
        reason_id=reason.id if reason else None,
        location=slot.location,
        notes=notes,
        fee=fee,
        currency=doctor["currency"],
        hold_expires_at=now + timedelta(seconds=settings.hold_ttl_s) if held else None,
        created_by=created_by,
        created_at=now,
    )


async def _book(
    con: asyncpg.Connection,
    new: store.NewAppointment,
    availability: Availability,
    principal: Principal,
    by_proxy: bool = False,
) -> asyncpg.Record:
    """Write `new` and its slot.held / slot.booked and appointment.created events at once;
    `by_proxy`: the caller books for a relative (audited as such, booked_by read back)."""
    actor = str(principal.user_id)
    planned = {
        "id": new.id,
        "doctor_id": new.doctor_id,
        "patient_id": new.patient_id,
        "start_at": new.start,
        "end_at": new.end,
        "visit_type": new.visit_type,
        "status": new.status,
        "cancelled_by": None,
    }
    # Version 0 stands in: scheduling.book_slot_audited writes the real one under the doctor's lock.
    slot_type = events.SLOT_HELD if new.status == "held" else events.SLOT_BOOKED
    outbox = [
        slot_event(slot_type, slot_payload(planned, 0), actor),
        appointment_event(events.APPOINTMENT_CREATED, appointment_payload(planned, 0), actor),
    ]
    # The audit entry commits with the booking (one autocommit statement), never after it; a
    # proxy's booking adds its own entry, so it takes a transaction.
    audit = change_entry(resource_id=new.id)
    events_json = [e.model_dump(mode="json") for e in outbox]
    stamp, buffer = availability.stamp, availability.settings.buffer
    with overlaps_refused():
        try:
            if by_proxy:
                async with con.transaction():
                    proxied = await book_slot(
                        con, new, stamp, buffer, events_json, audit, by_proxy=True
                    )
                    if proxied is None:  # the link was revoked meanwhile, as _proxy_link says
                        raise Forbidden(BOOK_FOR_SELF)
                    await record_proxy_action(con, principal, "book", new.patient_id, new.id)
                row = proxied
            else:
                row = await book_slot(con, new, stamp, buffer, events_json, audit)
                assert row is not None
        except AuditNotWritten as exc:
            log.exception("audit entry not written: booking refused")
            raise AuditUnavailable() from exc
    if audit is not None:
        change_recorded(audit)
    return row


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
                # Before any other lock (a removal takes the link first too): a revoked link
                # moves nothing, and a removal waits to see the new time.
                if acts_as_proxy(caller, current) and not await share_link(
                    con, principal.user_id, current["patient_id"]
                ):
                    raise NotFound(NO_SUCH_APPOINTMENT)
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
                        now,
                    )
                row = await store.fetch_appointment(con, appointment_id)
                assert row is not None
                previous = (old["start_at"], old["end_at"])
                released = slot_payload(old, version, *previous)
                await emit_slot(con, events.SLOT_BOOKED, slot_payload(row, version), caller.actor)
                await release_slot(con, released, caller.actor)
                await emit_appointment(
                    con,
                    events.APPOINTMENT_RESCHEDULED,
                    appointment_payload(row, version, previous=previous, reason=body.reason),
                    caller.actor,
                )
                if acts_as_proxy(caller, old):
                    await record_proxy_action(
                        con, principal, "reschedule", old["patient_id"], appointment_id
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
