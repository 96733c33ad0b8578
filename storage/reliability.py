"""Late cancellations and no-shows of a practice, per patient.

A late cancellation is one the patient made after the cut-off of the visit's reason
(`refund_cutoff_hours`, migration 0016; `default_cutoff` for a visit without a reason)."""

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
        """SELECT a.patient_id, p.first_name || ' ' || p.last_name AS name,
                  count(*) FILTER (
                      WHERE a.status = 'cancelled' AND a.cancelled_by = 'patient'
                        AND a.cancelled_at > lower(a.period)
                            - coalesce(make_interval(hours => r.refund_cutoff_hours), $2))
                      AS late_cancellations,
                  count(*) FILTER (WHERE a.status = 'no-show') AS no_shows
           FROM scheduling.appointments a
           JOIN patients.patients p ON p.id = a.patient_id
           LEFT JOIN scheduling.visit_reasons r ON r.id = a.reason_id
           WHERE a.doctor_id = $1 AND a.status IN ('cancelled', 'no-show')
           GROUP BY a.patient_id, p.first_name, p.last_name
           HAVING count(*) FILTER (WHERE a.status = 'no-show') > 0
               OR count(*) FILTER (
                      WHERE a.status = 'cancelled' AND a.cancelled_by = 'patient'
                        AND a.cancelled_at > lower(a.period)
                            - coalesce(make_interval(hours => r.refund_cutoff_hours), $2)) > 0
           ORDER BY 3 DESC, 4 DESC, 1""",
        doctor_id,
        default_cutoff,
    )
    return rows
