"""Late cancellations and no-shows of a practice, per patient.

A late cancellation is one the patient made after the cut-off of the visit's reason
(`refund_cutoff_hours`, migration 0016; `default_cutoff` for a visit without a reason), of a
booking: a hold dropped before it was paid (checkout, waitlist offer) does not count."""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg


async def practice_figures(
    con: asyncpg.Connection, doctor_id: uuid.UUID, default_cutoff: timedelta
) -> list[asyncpg.Record]:
    """Per patient with at least one: `patient_id`, `name`, `late_cancellations`, `no_shows`;
    most of both first."""
    rows: list[asyncpg.Record] = await con.fetch(
        """WITH outcomes AS (
               SELECT a.patient_id,
                      a.status = 'cancelled' AND a.cancelled_by = 'patient'
                        AND a.cancelled_at > lower(a.period)
                            - coalesce(make_interval(hours => r.refund_cutoff_hours), $2)
                        -- a hold given up before it was paid (checkout, waitlist offer) was
                        -- never a booking: not a late cancellation
                        AND (a.hold_expires_at IS NULL OR EXISTS (
                               SELECT 1 FROM payments.payments pay
                               WHERE pay.appointment_id = a.id
                                 AND pay.status IN ('completed', 'refunded'))) AS late,
                      a.status = 'no-show' AS no_show
               FROM scheduling.appointments a
               LEFT JOIN scheduling.visit_reasons r ON r.id = a.reason_id
               WHERE a.doctor_id = $1 AND a.status IN ('cancelled', 'no-show'))
           SELECT o.patient_id, p.first_name || ' ' || p.last_name AS name,
                  count(*) FILTER (WHERE o.late) AS late_cancellations,
                  count(*) FILTER (WHERE o.no_show) AS no_shows
           FROM outcomes o
           JOIN patients.patients p ON p.id = o.patient_id
           WHERE o.late OR o.no_show
           GROUP BY o.patient_id, p.first_name, p.last_name
           ORDER BY 3 DESC, 4 DESC, 1""",
        doctor_id,
        default_cutoff,
    )
    return rows
