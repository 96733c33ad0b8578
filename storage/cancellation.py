"""A visit's cancellation policy as stored: its reason's columns (migrations 0016 and 0025), the
payments domain's defaults for a visit without a reason."""

from __future__ import annotations

import uuid

import asyncpg

from storage.payments import DEFAULT_CUTOFF_HOURS, DEFAULT_LATE_PERCENT

_POLICY = """coalesce(r.refund_cutoff_hours, $2) AS refund_cutoff_hours,
    coalesce(r.late_refund_percent, $3) AS late_refund_percent,
    coalesce(r.cancel_reason_required, 'never') AS cancel_reason_required,
    coalesce(r.pay_at_visit, false) AS pay_at_visit"""


async def reason_policy(
    con: asyncpg.Connection, doctor_id: uuid.UUID, reason_id: uuid.UUID | None
) -> asyncpg.Record:
    """The policy of the doctor's reason `reason_id` (the defaults when null or not theirs);
    `reason_found`: `reason_id` names one of the doctor's reasons."""
    row: asyncpg.Record = await con.fetchrow(
        f"""SELECT {_POLICY}, r.id IS NOT NULL AS reason_found
            FROM (SELECT 1) AS one
            LEFT JOIN scheduling.visit_reasons r ON r.id = $4 AND r.doctor_id = $1""",
        doctor_id,
        DEFAULT_CUTOFF_HOURS,
        DEFAULT_LATE_PERCENT,
        reason_id,
    )
    return row


async def appointment_policy(
    con: asyncpg.Connection, appointment_id: uuid.UUID
) -> asyncpg.Record | None:
    """The appointment's start, fee and currency with its reason's policy; None when unknown."""
    row: asyncpg.Record | None = await con.fetchrow(
        f"""SELECT a.id, a.doctor_id, a.patient_id, lower(a.period) AS start_at, a.fee,
                   a.currency, {_POLICY}
            FROM scheduling.appointments a
            LEFT JOIN scheduling.visit_reasons r ON r.id = a.reason_id
            WHERE a.id = $1""",
        appointment_id,
        DEFAULT_CUTOFF_HOURS,
        DEFAULT_LATE_PERCENT,
    )
    return row
