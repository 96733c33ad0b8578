"""Appointments: the exclusion constraints are the double-booking guard; their violations become
ConstraintViolation(DOCTOR_OVERLAP / PATIENT_OVERLAP) here, so services never see driver errors."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from storage.errors import ConstraintViolation

# The exclusion constraints of migration 0006 hold a time for the statuses held, scheduled and
# confirmed; queries name them literally so the planner can use the constraints' partial indexes.
DOCTOR_OVERLAP = "appointments_no_doctor_overlap"
PATIENT_OVERLAP = "appointments_no_patient_overlap"


@dataclass(frozen=True)
class NewAppointment:
    id: uuid.UUID
    doctor_id: uuid.UUID
    patient_id: uuid.UUID
    start: datetime
    end: datetime
    visit_type: str
    status: str
    reason_id: uuid.UUID | None
    location: str
    notes: Mapping[str, object] | None  # an encrypted field's JSON (server.crypto)
    fee: int
    currency: str
    hold_expires_at: datetime | None
    created_by: uuid.UUID | None
    created_at: datetime  # the deciding clock's instant (also the first updated_at)


def overlap_refused(exc: asyncpg.PostgresError) -> ConstraintViolation:
    """What an exclusion violation (or deadlock) refusing an appointment write means."""
    if getattr(exc, "constraint_name", None) == DOCTOR_OVERLAP:
        return ConstraintViolation(DOCTOR_OVERLAP)
    # Patient overlap; also a deadlock, which only two racing overlapping bookings of one
    # patient (at two doctors) can produce here: both wait on each other's exclusion check.
    return ConstraintViolation(PATIENT_OVERLAP)


async def move_appointment(
    con: asyncpg.Connection,
    appointment_id: uuid.UUID,
    start: datetime,
    end: datetime,
    visit_type: str,
    location: str,
    status: str,
    now: datetime,
) -> None:
    """Reschedule in place: one UPDATE frees the old time and takes the new one."""
    try:
        await con.execute(
            """UPDATE scheduling.appointments
                   SET period = tstzrange($2, $3, '[)'), visit_type = $4, location = $5,
                       status = $6, updated_at = $7
                   WHERE id = $1""",
            appointment_id,
            start,
            end,
            visit_type,
            location,
            status,
            now,
        )
    except (asyncpg.ExclusionViolationError, asyncpg.DeadlockDetectedError) as exc:
        raise overlap_refused(exc) from exc


async def fetch_appointment(
    con: asyncpg.Connection | asyncpg.Pool, appointment_id: uuid.UUID
) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await con.fetchrow(
        """SELECT id, doctor_id, patient_id, start_at, end_at, visit_type, status, reason_id,
                  reason_name, location, notes, fee, currency, hold_expires_at, cancelled_by,
                  cancellation_reason, cancelled_at, created_at, updated_at, time_zone,
                  doctor_user_id, acting_user_ids, booked_by_user_id, booked_by_name,
                  booked_by_relationship
           FROM scheduling.appointment_details WHERE id = $1""",
        appointment_id,
    )
    return row


async def appointment_doctor(
    con: asyncpg.Connection | asyncpg.Pool, appointment_id: uuid.UUID
) -> uuid.UUID | None:
    doctor_id: uuid.UUID | None = await con.fetchval(
        "SELECT doctor_id FROM scheduling.appointments WHERE id = $1", appointment_id
    )
    return doctor_id


async def lock_appointment(con: asyncpg.Connection, appointment_id: uuid.UUID) -> str | None:
    """Lock the row for a transition; returns its current status."""
    status: str | None = await con.fetchval(
        "SELECT status FROM scheduling.appointments WHERE id = $1 FOR UPDATE", appointment_id
    )
    return status


async def set_status(
    con: asyncpg.Connection,
    appointment_id: uuid.UUID,
    status: str,
    cancelled_by: str | None = None,
    cancellation_reason: str | None = None,
    *,
    at: datetime,
) -> None:
    """Raises ConstraintViolation when the new status makes the appointment overlap another
    (only an expired hold taken again can: every other change keeps or frees its time). `at`:
    the deciding clock's instant, recorded as updated_at and cancelled_at (a late cancellation
    is judged by it)."""
    try:
        await con.execute(
            """UPDATE scheduling.appointments
               SET status = $2, updated_at = $5,
                   hold_expires_at = CASE WHEN $2 = 'scheduled' THEN NULL
                                          ELSE hold_expires_at END,
                   cancelled_by = CASE WHEN $2 = 'cancelled' THEN coalesce($3, cancelled_by) END,
                   cancellation_reason = CASE WHEN $2 = 'cancelled'
                                              THEN coalesce($4, cancellation_reason) END,
                   cancelled_at = CASE WHEN $2 = 'cancelled'
                                       THEN $5::timestamptz END
               WHERE id = $1""",
            appointment_id,
            status,
            cancelled_by,
            cancellation_reason,
            at,
        )
    except (asyncpg.ExclusionViolationError, asyncpg.DeadlockDetectedError) as exc:
        raise overlap_refused(exc) from exc


async def update_details(
    con: asyncpg.Connection,
    appointment_id: uuid.UUID,
    notes: Mapping[str, object] | None,
    set_notes: bool,
    reason_id: uuid.UUID | None,
    now: datetime,
) -> None:
    await con.execute(
        """UPDATE scheduling.appointments
           SET notes = CASE WHEN $3 THEN $2 ELSE notes END,
               reason_id = coalesce($4, reason_id), updated_at = $5
           WHERE id = $1""",
        appointment_id,
        notes,
        set_notes,
        reason_id,
        now,
    )


async def busy_periods(
    con: asyncpg.Connection | asyncpg.Pool,
    doctor_id: uuid.UUID,
    start: datetime,
    end: datetime,
    exclude_id: uuid.UUID | None = None,
) -> list[tuple[datetime, datetime]]:
    """Active appointments (holds included) of the doctor overlapping [start, end), by start."""
    rows = await con.fetch(
        """SELECT lower(period) AS s, upper(period) AS e FROM scheduling.appointments
           WHERE doctor_id = $1 AND period && tstzrange($2, $3, '[)')
             AND status IN ('held', 'scheduled', 'confirmed')
             AND ($4::uuid IS NULL OR id <> $4)
           ORDER BY lower(period)""",
        doctor_id,
        start,
        end,
        exclude_id,
    )
    return [(r["s"], r["e"]) for r in rows]


# list_appointments and agenda_appointment also read what a doctor's agenda shows of each patient
# (cross-schema read of patients.patients, as the appointment_details view does), in the same
# query: `patient_treated` is the rule of storage.patients.doctor_treats_patient (a booked, not
# only held or cancelled, appointment with this doctor); `patient_seen_before` is a completed
# appointment with this doctor before this one (so not a first visit).
_AGENDA_SELECT = """a.id, a.doctor_id, a.patient_id, a.start_at, a.end_at, a.visit_type,
                  a.status, a.reason_id, a.reason_name, a.location, a.notes, a.fee, a.currency,
                  a.hold_expires_at, a.cancelled_by, a.cancellation_reason, a.cancelled_at,
                  a.created_at, a.updated_at, a.time_zone, a.doctor_user_id,
                  a.booked_by_user_id, a.booked_by_name, a.booked_by_relationship,
                  p.first_name AS patient_first_name, p.last_name AS patient_last_name,
                  p.date_of_birth AS patient_date_of_birth, p.phone AS patient_phone,
                  p.erased_at IS NOT NULL AS patient_erased,
                  EXISTS (SELECT 1 FROM scheduling.appointments t
                          WHERE t.doctor_id = a.doctor_id AND t.patient_id = a.patient_id
                            AND t.status IN ('scheduled', 'confirmed', 'completed', 'no-show'))
                      AS patient_treated,
                  EXISTS (SELECT 1 FROM scheduling.appointments c
                          WHERE c.doctor_id = a.doctor_id AND c.patient_id = a.patient_id
                            AND c.status = 'completed' AND lower(c.period) < a.start_at)
                      AS patient_seen_before
            FROM scheduling.appointment_details a
            JOIN patients.patients p ON p.id = a.patient_id"""


async def agenda_appointment(
    con: asyncpg.Connection | asyncpg.Pool, appointment_id: uuid.UUID
) -> asyncpg.Record | None:
    """One appointment with what its doctor's agenda shows of the patient (live agenda events)."""
    row: asyncpg.Record | None = await con.fetchrow(
        f"""SELECT {_AGENDA_SELECT}
            WHERE a.id = $1""",
        appointment_id,
    )
    return row


async def list_appointments(
    con: asyncpg.Connection | asyncpg.Pool,
    *,
    patient_id: uuid.UUID | None,
    doctor_id: uuid.UUID | None,
    start: datetime | None,
    end: datetime | None,
    statuses: list[str] | None,
    limit: int,
    offset: int,
) -> tuple[list[asyncpg.Record], int]:
    """One page of appointments starting in [start, end), soonest first, and the total count."""
    rows = await con.fetch(
        f"""SELECT count(*) OVER () AS total, {_AGENDA_SELECT}
            WHERE ($1::uuid IS NULL OR a.patient_id = $1)
              AND ($2::uuid IS NULL OR a.doctor_id = $2)
              AND ($3::timestamptz IS NULL OR a.start_at >= $3)
              AND ($4::timestamptz IS NULL OR a.start_at < $4)
              AND ($5::text[] IS NULL OR a.status = ANY($5))
            ORDER BY a.start_at, a.id LIMIT $6 OFFSET $7""",
        patient_id,
        doctor_id,
        start,
        end,
        statuses,
        limit,
        offset,
    )
    total = rows[0]["total"] if rows else 0
    if not rows and offset:
        total = await con.fetchval(
            """SELECT count(*) FROM scheduling.appointments
               WHERE ($1::uuid IS NULL OR patient_id = $1) AND ($2::uuid IS NULL OR doctor_id = $2)
                 AND ($3::timestamptz IS NULL OR lower(period) >= $3)
                 AND ($4::timestamptz IS NULL OR lower(period) < $4)
                 AND ($5::text[] IS NULL OR status = ANY($5))""",
            patient_id,
            doctor_id,
            start,
            end,
            statuses,
        )
    return list(rows), int(total)


async def overdue_holds(
    con: asyncpg.Connection | asyncpg.Pool, now: datetime, limit: int
) -> list[Any]:
    """(id, doctor_id) of holds whose payment time ran out at `now`."""
    rows = await con.fetch(
        """SELECT id, doctor_id FROM scheduling.appointments
           WHERE status = 'held' AND hold_expires_at <= $1
           ORDER BY hold_expires_at LIMIT $2""",
        now,
        limit,
    )
    return [(r["id"], r["doctor_id"]) for r in rows]
