"""Reading and editing appointments: rendering, lists per patient / doctor, notes and reason."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import asyncpg
from starlette.requests import HTTPConnection

from bus import events
from server import clock
from server.audit.service import record_access, record_change
from server.auth.administration import StepUpRequired, ensure_recent_step_up
from server.auth.principal import Principal
from server.crypto import EncryptedField, FieldCipher
from server.engines import Engines
from server.errors import (
    NO_SUCH_DOCTOR,
    NO_SUCH_PATIENT,
    UNKNOWN_VISIT_REASON,
    Forbidden,
    InvalidInput,
    NotFound,
)
from server.scheduling.access import (
    Caller,
    acts_as_proxy,
    party_of,
    require_action,
    require_party,
    resolve_caller,
)
from server.scheduling.errors import (
    NOT_EDITABLE,
    OWN_AGENDA,
    OWN_APPOINTMENTS,
    REASON_MISFIT,
    REASON_WRONG_LENGTH,
    REASON_WRONG_TYPE,
    TransitionRefused,
)
from server.scheduling.events import appointment_payload, emit_appointment
from server.scheduling.proxy import record_proxy_action
from server.scheduling.schemas import (
    AgendaPatient,
    AppointmentOut,
    AppointmentPage,
    AppointmentUpdate,
    BookedBy,
    Parties,
)
from server.scheduling.slots import load_availability, zone_of
from server.scheduling.state_machine import (
    Party,
    allowed_transitions,
    is_active,
    refused_transitions,
)
from server.settings import Settings
from server.teleconsult.window import join_window
from storage.scheduling import appointments as store
from storage.scheduling.parties import fetch_doctor, patient_exists
from storage.scheduling.versions import current_version


@dataclass(frozen=True)
class ListQuery:
    start: datetime | None
    end: datetime | None
    statuses: list[str] | None
    limit: int
    offset: int


def encrypt_notes(
    cipher: FieldCipher, appointment_id: uuid.UUID, notes: str
) -> EncryptedField | None:
    # The id as associated data: a ciphertext copied onto another appointment does not decrypt.
    return cipher.encrypt(notes, appointment_id.bytes) if notes else None


def agenda_patient(row: asyncpg.Record, today: date) -> AgendaPatient:
    """The patient columns of storage's agenda queries, as the doctor may see them."""
    treated = row["patient_treated"] and not row["patient_erased"]
    born: date | None = row["patient_date_of_birth"]
    age = None
    if treated and born is not None:
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return AgendaPatient(
        first_name=row["patient_first_name"],
        last_name=row["patient_last_name"],
        age=age,
        phone=row["patient_phone"] if treated else None,
        first_visit=not row["patient_seen_before"],
        erased=row["patient_erased"],
    )


def render_appointment(
    row: asyncpg.Record,
    cipher: FieldCipher,
    settings: Settings,
    party: Party | None,
    *,
    with_patient: bool = False,
) -> AppointmentOut:
    """The appointment as `party` sees it: what that caller may do with it now included."""
    zone = zone_of(row["time_zone"])
    now = clock.now()
    cutoff = timedelta(hours=settings.patient_cancel_cutoff_h)
    moment = (party, row["status"], row["start_at"], now, cutoff)
    notes = cipher.decrypt(row["notes"], row["id"].bytes) if row["notes"] else ""
    # The video room's window comes from the server's settings, never from a client constant.
    opens = closes = None
    if row["visit_type"] == "teleconsultation":
        opens, closes = join_window(row["start_at"], row["end_at"], settings)
    return AppointmentOut(
        id=row["id"],
        doctor_id=row["doctor_id"],
        patient_id=row["patient_id"],
        start=row["start_at"].astimezone(zone),
        end=row["end_at"].astimezone(zone),
        time_zone=row["time_zone"],
        visit_type=row["visit_type"],
        status=row["status"],
        reason_id=row["reason_id"],
        reason_name=row["reason_name"],
        location=row["location"],
        notes=notes,
        fee=row["fee"],
        currency=row["currency"],
        hold_expires_at=row["hold_expires_at"],
        cancelled_by=row["cancelled_by"],
        cancellation_reason=row["cancellation_reason"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        allowed_transitions=allowed_transitions(*moment),
        refused_transitions=refused_transitions(*moment),
        patient_cutoff_at=(row["start_at"] - cutoff).astimezone(zone)
        if party == "patient" and is_active(row["status"])
        else None,
        join_opens_at=opens.astimezone(zone) if opens else None,
        join_closes_at=closes.astimezone(zone) if closes else None,
        patient=agenda_patient(row, now.astimezone(zone).date()) if with_patient else None,
        booked_by=booked_by(row),
    )


def booked_by(row: asyncpg.Record) -> BookedBy | None:
    """The proxy who booked, from appointment_details' booked_by_* (migration 0023)."""
    user_id = row.get("booked_by_user_id")
    if user_id is None:
        return None
    return BookedBy(
        id=user_id,
        name=row["booked_by_name"] or "",
        relationship=row["booked_by_relationship"],
    )


async def _admin_step_up(
    engines: Engines,
    principal: Principal,
    action: str | None = None,
    resource: tuple[str, uuid.UUID] | None = None,
    request: HTTPConnection | None = None,
) -> None:
    """Appointments are health data: an admin reads them only with their password re-entered
    within the step-up window (403 `/problems/step-up-required`, the refusal audited)."""
    if not principal.is_admin:
        return
    try:
        await ensure_recent_step_up(engines.pool, principal)
    except StepUpRequired:
        if action is not None and resource is not None:
            await _audit_read(engines, principal, action, resource, request, 403)
        raise


async def _audit_read(
    engines: Engines,
    principal: Principal,
    action: str,
    resource: tuple[str, uuid.UUID],
    request: HTTPConnection | None,
    status: int = 200,
) -> None:
    """Appointments carry health data (notes, reasons): every read or refusal is audited."""
    await record_access(
        engines.pool,
        principal=principal,
        action=action,
        resource_type=resource[0],
        resource_id=resource[1],
        status=status,
        request=request,
    )


async def get_appointment(
    engines: Engines,
    principal: Principal,
    appointment_id: uuid.UUID,
    request: HTTPConnection | None = None,
) -> AppointmentOut:
    resource = ("appointment", appointment_id)
    async with engines.pool.acquire() as con:
        caller = await resolve_caller(con, principal)
        row = await store.fetch_appointment(con, appointment_id)
    try:
        party = require_party(caller, row)
        await _admin_step_up(engines, principal)
    except NotFound:
        await _audit_read(engines, principal, "appointment.read", resource, request, 404)
        raise
    except StepUpRequired:
        await _audit_read(engines, principal, "appointment.read", resource, request, 403)
        raise
    assert row is not None
    await _audit_read(engines, principal, "appointment.read", resource, request)
    return render_appointment(row, FieldCipher(engines.settings), engines.settings, party)


async def update_appointment(
    engines: Engines, principal: Principal, appointment_id: uuid.UUID, body: AppointmentUpdate
) -> AppointmentOut:
    """Change notes or the visit reason (same duration) of an upcoming appointment."""
    cipher = FieldCipher(engines.settings)
    async with engines.pool.acquire() as con:
        caller = await resolve_caller(con, principal)
        party = require_party(caller, await store.fetch_appointment(con, appointment_id))
        require_action(party, "update")
        async with con.transaction():
            status = await store.lock_appointment(con, appointment_id)
            row = await store.fetch_appointment(con, appointment_id)
            assert status is not None and row is not None
            if not is_active(status):
                raise TransitionRefused(NOT_EDITABLE, status, [])
            if body.reason_id is not None:
                await _check_new_reason(con, row, body.reason_id)
            notes = (
                encrypt_notes(cipher, appointment_id, body.notes)
                if body.notes is not None
                else None
            )
            await store.update_details(
                con, appointment_id, notes, body.notes is not None, body.reason_id, clock.now()
            )
            row = await store.fetch_appointment(con, appointment_id)
            assert row is not None
            version = await current_version(con, row["doctor_id"])
            await emit_appointment(
                con, events.APPOINTMENT_UPDATED, appointment_payload(row, version), caller.actor
            )
            if acts_as_proxy(caller, row):
                await record_proxy_action(con, principal, "update", row["patient_id"], row["id"])
            await record_change(con)
    return render_appointment(row, cipher, engines.settings, party)


async def _check_new_reason(
    con: asyncpg.Connection, row: asyncpg.Record, reason_id: uuid.UUID
) -> None:
    doctor = await fetch_doctor(con, row["doctor_id"])
    assert doctor is not None
    reason = (await load_availability(con, doctor)).reason(reason_id)
    length = int((row["end_at"] - row["start_at"]).total_seconds() // 60)
    problem = None
    if reason is None:
        problem = UNKNOWN_VISIT_REASON.at("reason_id")
    elif row["visit_type"] not in reason.visit_types:
        problem = REASON_WRONG_TYPE.at("reason_id", visit_type=row["visit_type"])
    elif reason.duration_minutes != length:
        problem = REASON_WRONG_LENGTH.at("reason_id")
    if problem:
        raise InvalidInput(REASON_MISFIT, [problem])


async def list_for_patient(
    engines: Engines,
    principal: Principal,
    patient_id: uuid.UUID,
    query: ListQuery,
    request: HTTPConnection | None = None,
) -> AppointmentPage:
    """The patient's own list; a doctor sees only this patient's appointments with them."""
    resource = ("patient", patient_id)
    async with engines.pool.acquire() as con:
        caller = await resolve_caller(con, principal)
        doctor_filter = None
        if principal.is_admin:
            if not await patient_exists(con, patient_id):
                raise NotFound(NO_SUCH_PATIENT)
            await _admin_step_up(engines, principal, "appointments.list", resource, request)
        elif caller.doctor_id is not None:
            doctor_filter = caller.doctor_id
        elif patient_id in caller.relative_ids and caller.patient_id != patient_id:
            # A proxy reads a relative's appointments: audited, naming the relative.
            await _audit_read(engines, principal, "relative_appointments.list", resource, request)
        elif caller.patient_id != patient_id:
            await _audit_read(engines, principal, "appointments.list", resource, request, 403)
            raise Forbidden(OWN_APPOINTMENTS)
        return await _page(
            con, engines, caller, query, patient_id=patient_id, doctor_id=doctor_filter
        )


async def list_for_doctor(
    engines: Engines,
    principal: Principal,
    doctor_id: uuid.UUID,
    query: ListQuery,
    request: HTTPConnection | None = None,
) -> AppointmentPage:
    """A doctor's agenda: that doctor and admins only."""
    resource = ("doctor", doctor_id)
    async with engines.pool.acquire() as con:
        caller = await resolve_caller(con, principal)
        if principal.is_admin:
            if await fetch_doctor(con, doctor_id) is None:
                raise NotFound(NO_SUCH_DOCTOR)
            await _admin_step_up(engines, principal, "agenda.list", resource, request)
        elif caller.doctor_id != doctor_id:
            await _audit_read(engines, principal, "agenda.list", resource, request, 403)
            raise Forbidden(OWN_AGENDA)
        return await _page(
            con, engines, caller, query, patient_id=None, doctor_id=doctor_id, with_patients=True
        )


async def _page(
    con: asyncpg.Connection,
    engines: Engines,
    caller: Caller,
    query: ListQuery,
    *,
    patient_id: uuid.UUID | None,
    doctor_id: uuid.UUID | None,
    with_patients: bool = False,
) -> AppointmentPage:
    rows, total = await store.list_appointments(
        con,
        patient_id=patient_id,
        doctor_id=doctor_id,
        start=query.start,
        end=query.end,
        statuses=query.statuses,
        limit=query.limit,
        offset=query.offset,
    )
    cipher = FieldCipher(engines.settings)
    return AppointmentPage(
        items=[
            render_appointment(
                r, cipher, engines.settings, party_of(caller, r), with_patient=with_patients
            )
            for r in rows
        ],
        total=total,
        limit=query.limit,
        offset=query.offset,
    )


async def appointment_parties(pool: asyncpg.Pool, appointment_id: uuid.UUID) -> Parties | None:
    """Contract: who takes part in an appointment, or None if there is no such appointment."""
    row = await store.fetch_appointment(pool, appointment_id)
    if row is None:
        return None
    return Parties(
        appointment_id=row["id"],
        acting_user_ids=tuple(row["acting_user_ids"]),
        doctor_user_id=row["doctor_user_id"],
        doctor_id=row["doctor_id"],
        patient_id=row["patient_id"],
        start=row["start_at"],
        end=row["end_at"],
        visit_type=row["visit_type"],
        status=row["status"],
    )


async def agenda_view(pool: asyncpg.Pool, appointment_id: uuid.UUID) -> dict[str, object] | None:
    """For the live agenda: the appointment's patient as its doctor's agenda shows it (JSON)."""
    row = await store.agenda_appointment(pool, appointment_id)
    if row is None:
        return None
    today = clock.now().astimezone(zone_of(row["time_zone"])).date()
    return agenda_patient(row, today).model_dump(mode="json")
