"""What a free-slots page reads, in one statement (one snapshot, one round trip)."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg


async def slots_snapshot(
    con: asyncpg.Connection | asyncpg.Pool,
    doctor_id: uuid.UUID,
    busy_from: datetime,
    busy_to: datetime,
    exclude_id: uuid.UUID | None = None,
) -> asyncpg.Record | None:
    """The doctor's columns of parties.fetch_doctor, `version` (the availability version, 0
    before any change), `rules_stamp`, and the active appointments (holds included) overlapping
    [busy_from, busy_to) but `exclude_id`, as `busy_starts` / `busy_ends` ordered by start.
    None when no such doctor. The busy periods are found through the doctor exclusion
    constraint's GiST index (doctor_id, period), whatever the range."""
    row: asyncpg.Record | None = await con.fetchrow(
        """SELECT d.id, d.user_id, d.time_zone, d.verification_status, d.consultation_fee,
                  d.currency, d.accepts_new_patients, coalesce(v.version, 0) AS version,
                  v.rules_stamp, b.starts AS busy_starts, b.ends AS busy_ends
           FROM doctors.doctors d
           LEFT JOIN scheduling.availability_versions v ON v.doctor_id = d.id
           CROSS JOIN LATERAL (
               SELECT coalesce(array_agg(lower(a.period) ORDER BY lower(a.period)), '{}')
                          AS starts,
                      coalesce(array_agg(upper(a.period) ORDER BY lower(a.period)), '{}') AS ends
               FROM scheduling.appointments a
               WHERE a.doctor_id = $1 AND a.period && tstzrange($2, $3, '[)')
                 AND a.status IN ('held', 'scheduled', 'confirmed')
                 AND ($4::uuid IS NULL OR a.id <> $4)) AS b
           WHERE d.id = $1""",
        doctor_id,
        busy_from,
        busy_to,
        exclude_id,
    )
    return row
