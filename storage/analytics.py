"""Analytics SQL over indexes (storage/migrations/0020_admin.sql): each figure reads the
appointments of one time range, for the whole platform or one doctor (`doctor_id`).

Call each function inside a transaction opened with `custom_plans`: a generic plan keeps
"$4 IS NULL OR doctor_id = $4" and cannot use the doctor's index; a custom plan folds it."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg


async def custom_plans(con: asyncpg.Connection) -> None:
    """Plan each statement for its own parameters, until the transaction ends."""
    await con.execute("SET LOCAL plan_cache_mode = force_custom_plan")


async def bookings_per_day(
    con: asyncpg.Connection, start: datetime, end: datetime, zone: str, doctor_id: uuid.UUID | None
) -> list[asyncpg.Record]:
    """(day, bookings): appointments made per local day of `zone` in [start, end)."""
    records: list[asyncpg.Record] = await con.fetch(
        """SELECT (created_at AT TIME ZONE $3)::date AS day, count(*)::int AS bookings
           FROM scheduling.appointments
           WHERE created_at >= $1 AND created_at < $2 AND ($4::uuid IS NULL OR doctor_id = $4)
           GROUP BY 1 ORDER BY 1""",
        start,
        end,
        zone,
        doctor_id,
    )
    return records


async def outcomes(
    con: asyncpg.Connection,
    start: datetime,
    end: datetime,
    now: datetime,
    doctor_id: uuid.UUID | None,
) -> asyncpg.Record:
    """Appointments due in [start, end): total, cancelled, and of those already past and not
    cancelled: past, no_show."""
    record: asyncpg.Record = await con.fetchrow(
        """SELECT count(*)::int AS total,
                  count(*) FILTER (WHERE status = 'cancelled')::int AS cancelled,
                  count(*) FILTER (WHERE status <> 'cancelled' AND status <> 'held'
                                   AND lower(period) < $3)::int AS past,
                  count(*) FILTER (WHERE status = 'no-show')::int AS no_show
           FROM scheduling.appointments
           WHERE lower(period) >= $1 AND lower(period) < $2
             AND ($4::uuid IS NULL OR doctor_id = $4)""",
        start,
        end,
        now,
        doctor_id,
    )
    return record


# Visits due in [$1, $2), not cancelled, counted per doctor: what the busiest figures group.
_PER_DOCTOR = """WITH per_doctor AS (
               SELECT doctor_id, count(*) AS n FROM scheduling.appointments
               WHERE lower(period) >= $1 AND lower(period) < $2 AND status <> 'cancelled'
               GROUP BY doctor_id)"""


async def busiest_specialties(
    con: asyncpg.Connection, start: datetime, end: datetime, limit: int
) -> list[asyncpg.Record]:
    """(code, appointments): visits due in [start, end), not cancelled, per doctor specialty."""
    records: list[asyncpg.Record] = await con.fetch(
        _PER_DOCTOR
        + """
           SELECT s.code, sum(p.n)::int AS appointments
           FROM per_doctor p JOIN doctors.doctors d ON d.id = p.doctor_id
           CROSS JOIN LATERAL unnest(d.specializations) AS s(code)
           GROUP BY s.code ORDER BY 2 DESC, 1 LIMIT $3""",
        start,
        end,
        limit,
    )
    return records


async def busiest_cities(
    con: asyncpg.Connection, start: datetime, end: datetime, limit: int
) -> list[asyncpg.Record]:
    """(city, appointments): visits due in [start, end), not cancelled, per doctor city."""
    records: list[asyncpg.Record] = await con.fetch(
        _PER_DOCTOR
        + """
           SELECT d.city, sum(p.n)::int AS appointments
           FROM per_doctor p JOIN doctors.doctors d ON d.id = p.doctor_id
           WHERE d.city <> ''
           GROUP BY d.city ORDER BY 2 DESC, 1 LIMIT $3""",
        start,
        end,
        limit,
    )
    return records


async def lead_time(
    con: asyncpg.Connection, start: datetime, end: datetime, doctor_id: uuid.UUID | None
) -> asyncpg.Record:
    """Hours from booking to visit of the visits due in [start, end), not cancelled: count,
    mean, median, 90th percentile."""
    record: asyncpg.Record = await con.fetchrow(
        """WITH lead AS (
               SELECT extract(epoch FROM lower(period) - created_at) / 3600.0 AS hours
               FROM scheduling.appointments
               WHERE lower(period) >= $1 AND lower(period) < $2 AND status <> 'cancelled'
                 AND ($3::uuid IS NULL OR doctor_id = $3))
           SELECT count(*)::int AS visits, avg(hours)::float8 AS mean_hours,
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY hours)::float8 AS median_hours,
                  percentile_cont(0.9) WITHIN GROUP (ORDER BY hours)::float8 AS p90_hours
           FROM lead""",
        start,
        end,
        doctor_id,
    )
    return record
