"""The booking fast path: everything a booking reads in one statement, and the booking itself with
its audit entry in one more (scheduling.book_slot_audited, migrations 0014, 0027 and 0032), so a
booking costs two round trips."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from storage.audit import NewAuditLog, log_json
from storage.auth import SessionCheck, check_sessions, live_session_role_sql
from storage.errors import AuditNotWritten, StaleRead
from storage.scheduling.appointments import NewAppointment, overlap_refused


async def booking_context(
    con: asyncpg.Connection | asyncpg.Pool,
    doctor_id: uuid.UUID,
    start: datetime,
    *,
    patient_user_id: uuid.UUID | None,
    patient_id: uuid.UUID | None,
    session: SessionCheck | None = None,
) -> asyncpg.Record:
    """One row: the doctor's columns of parties.fetch_doctor (all null when no such doctor),
    `patient_id` (the patient `patient_id` names, else the one of user `patient_user_id`; null
    when none or erased), `rules_stamp` (null before the doctor's first slot change), `taken`
    (an active appointment of the doctor covers `start`), `seen_before` (the patient has a
    completed appointment with the doctor) and `prepay_required` (the patient's no-shows with
    the doctor reached the practice's prepayment threshold, waitlist.practice_settings), and
    `session_role`: for `session` (session id, user id, now), the caller's role if that session
    is live (storage.auth.live_session_role), else null; null without `session`."""
    session_id, session_user, now = session if session is not None else (None, None, None)
    row: asyncpg.Record = await con.fetchrow(
        _BOOKING_CONTEXT,
        doctor_id,
        start,
        patient_user_id,
        patient_id,
        session_id,
        session_user,
        now,
    )
    return row


_SESSION_ROLE = live_session_role_sql("$5", "$6", "$7::timestamptz")
_BOOKING_CONTEXT = f"""SELECT {_SESSION_ROLE} AS session_role,
                  d.id, d.user_id, d.time_zone, d.verification_status, d.consultation_fee,
                  d.currency, d.accepts_new_patients, pt.id AS patient_id, v.rules_stamp,
                  EXISTS (SELECT 1 FROM scheduling.appointments a
                          WHERE a.doctor_id = $1 AND a.period @> $2::timestamptz
                            AND a.status IN ('held', 'scheduled', 'confirmed')) AS taken,
                  EXISTS (SELECT 1 FROM scheduling.appointments h
                          WHERE h.doctor_id = $1 AND h.patient_id = pt.id
                            AND h.status = 'completed') AS seen_before,
                  coalesce((SELECT w.prepay_no_show_threshold <= (
                                SELECT count(*) FROM scheduling.appointments n
                                WHERE n.doctor_id = $1 AND n.patient_id = pt.id
                                  AND n.status = 'no-show')
                            FROM waitlist.practice_settings w
                            WHERE w.doctor_id = $1 AND w.prepay_no_show_threshold IS NOT NULL),
                           false) AS prepay_required
           FROM (SELECT 1) AS one
           LEFT JOIN doctors.doctors d ON d.id = $1
           LEFT JOIN scheduling.availability_versions v ON v.doctor_id = $1
           LEFT JOIN LATERAL (
               SELECT p.id FROM patients.patients p
               WHERE p.erased_at IS NULL
                 AND (p.id = $4 OR ($4::uuid IS NULL AND p.user_id = $3))) AS pt ON true"""


async def waiting_patients(
    con: asyncpg.Connection, checks: list[SessionCheck]
) -> list[tuple[str | None, bool]]:
    """For each (session id, user id, now) of `checks`, in one statement: the caller's role
    as storage.auth.live_session_role says, and whether the user has a patient profile (not
    erased), what a rush's waiter must have before it is told the slot is taken."""
    profiled = """EXISTS (SELECT 1 FROM patients.patients p
                          WHERE p.user_id = q.uid AND p.erased_at IS NULL) AS profiled"""
    rows = await check_sessions(con, checks, profiled)
    return [(row["role"], row["profiled"]) for row in rows]


async def book_slot(
    con: asyncpg.Connection,
    new: NewAppointment,
    rules_stamp: uuid.UUID | None,
    buffer: timedelta,
    events: Sequence[dict[str, Any]],
    audit: NewAuditLog | None = None,
    *,
    by_proxy: bool = False,
) -> asyncpg.Record | None:
    """Book in one autocommit statement (scheduling.book_slot_audited), with `audit` written by the
    same statement (unsealed, like storage.audit.insert_log) when given: the appointment as
    scheduling.appointment_details shows it plus `availability_version`, the doctor's new
    version, which the function also writes into each event's `data.availability_version`.

    `events` are outbox rows as JSON (bus.events.Envelope), written in this order. Raises
    ConstraintViolation (the slot or its buffer is taken, or the patient is busy then),
    StaleRead (the availability changed since `rules_stamp` was read: read it again) or
    AuditNotWritten (nothing booked).

    `by_proxy`: `new.created_by` books for the relative `new.patient_id` (issue #24). The same
    statement first takes their live link FOR SHARE and books only with it: a removal (which
    takes the link FOR UPDATE, then looks for upcoming appointments) either waits for this
    booking's commit and sees it, or commits first and this finds the link revoked. None
    then, nothing booked."""
    try:
        row: asyncpg.Record | None = await con.fetchrow(
            _BOOK_BY_PROXY if by_proxy else _BOOK,
            new.id,
            new.doctor_id,
            new.patient_id,
            new.start,
            new.end,
            new.visit_type,
            new.status,
            new.reason_id,
            new.location,
            new.notes,
            new.fee,
            new.currency,
            new.hold_expires_at,
            new.created_by,
            rules_stamp,
            buffer,
            list(events),
            None if audit is None else log_json(audit),
            new.created_at,
        )
    except asyncpg.SerializationError as exc:
        raise StaleRead("scheduling.availability_versions.rules_stamp") from exc
    except (asyncpg.ExclusionViolationError, asyncpg.DeadlockDetectedError) as exc:
        raise overlap_refused(exc) from exc
    except asyncpg.PostgresError as exc:
        if exc.sqlstate == AUDIT_NOT_WRITTEN:
            raise AuditNotWritten(str(exc)) from exc
        raise
    return row


_ARGS = """$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19"""
_BOOK = f"SELECT * FROM scheduling.book_slot_audited({_ARGS})"
# The function takes the link's proxy as created_by ($14): the lateral reference makes the
# link's lock come first, and no link (revoked, or waited for and revoked meanwhile: the lock
# checks the row again) means no call at all.
_BOOK_BY_PROXY = f"""SELECT b.* FROM (
        SELECT l.proxy_user_id FROM patients.relatives l
        WHERE l.proxy_user_id = $14 AND l.relative_id = $3 AND l.revoked_at IS NULL
        FOR SHARE) AS link
    CROSS JOIN LATERAL scheduling.book_slot_audited(
        {_ARGS.replace("$14", "link.proxy_user_id")}) AS b"""

# scheduling.book_slot_audited's refusal when the audit entry cannot be written (migration 0027).
AUDIT_NOT_WRITTEN = "MKA01"
