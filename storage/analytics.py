"""Analytics SQL over indexes (storage/migrations/0020_admin.sql): each figure reads the
appointments of one time range, for the whole platform or one doctor (`doctor_id`).

Call each function inside a transaction opened with `custom_plans`: a generic plan keeps
"$4 IS NULL OR doctor_id = $4" and cannot use the doctor's index; a custom plan folds it."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import asyncpg

from storage import payments


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


# Rollups (storage/migrations/0026_analytics_rollups.sql): platform-wide figures per UTC day
# (visits) and per UTC quarter hour (bookings, and revenue: 0034), each row the SQL over its
# appointments (payments).

QUARTER = "15 minutes"
_ORIGIN = "2000-01-01 00:00:00+00"
# Rebuilds take it exclusively, refreshes shared: a refresh never interleaves with a rebuild.
_ALL_ROLLUPS_LOCK = 0x616E616C  # "anal"
# Booking to visit, in microseconds (exact: timestamptz counts microseconds).
_MICROS = "(extract(epoch FROM lower(a.period) - a.created_at) * 1000000)::bigint"
# The UTC days of [$1, $2), both UTC midnights.
_DAYS = "day >= ($1 AT TIME ZONE 'UTC')::date AND day < ($2 AT TIME ZONE 'UTC')::date"


async def lock_days(con: asyncpg.Connection, days: list[datetime]) -> None:
    """Serialise refreshes of the same days and months (all taken in one order: no deadlock);
    until commit."""
    await con.execute("SELECT pg_advisory_xact_lock_shared($1)", _ALL_ROLLUPS_LOCK)
    keys = {f"day:{d:%Y-%m-%d}" for d in days} | {f"month:{d:%Y-%m}" for d in days}
    for key in sorted(keys):
        await con.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended('analytics:' || $1::text, 0))", key
        )


async def lock_all(con: asyncpg.Connection) -> None:
    await con.execute("SELECT pg_advisory_xact_lock($1)", _ALL_ROLLUPS_LOCK)


async def refresh_visits(con: asyncpg.Connection, start: datetime, end: datetime) -> None:
    """Recompute the visit rollups of the UTC days in [start, end) (both UTC midnights)."""
    # lead_monthly follows lead_daily: the month loses the days' old rows, gains their new ones.
    await con.execute(
        f"""WITH old AS (
                DELETE FROM analytics.lead_daily WHERE {_DAYS}
                RETURNING date_trunc('month', day)::date AS month, micros, visits)
            INSERT INTO analytics.lead_monthly AS m (month, micros, visits)
            SELECT month, micros, -sum(visits) FROM old GROUP BY 1, 2 ORDER BY 1, 2
            ON CONFLICT (month, micros) DO UPDATE SET visits = m.visits + EXCLUDED.visits""",
        start,
        end,
    )
    for table in ("visits_daily", "visits_daily_city", "visits_daily_specialty"):
        await con.execute(
            f"""DELETE FROM analytics.{table} WHERE {_DAYS}""",
            start,
            end,
        )
    day = "(lower(a.period) AT TIME ZONE 'UTC')::date"
    due = "lower(a.period) >= $1 AND lower(a.period) < $2"
    await con.execute(
        f"""INSERT INTO analytics.visits_daily (day, total, cancelled, held, no_show)
            SELECT {day}, count(*), count(*) FILTER (WHERE a.status = 'cancelled'),
                   count(*) FILTER (WHERE a.status = 'held'),
                   count(*) FILTER (WHERE a.status = 'no-show')
            FROM scheduling.appointments a WHERE {due} GROUP BY 1""",
        start,
        end,
    )
    await con.execute(
        f"""INSERT INTO analytics.visits_daily_city (day, city, visits)
            SELECT {day}, d.city, count(*)
            FROM scheduling.appointments a JOIN doctors.doctors d ON d.id = a.doctor_id
            WHERE {due} AND a.status <> 'cancelled' AND d.city <> '' GROUP BY 1, 2""",
        start,
        end,
    )
    await con.execute(
        f"""INSERT INTO analytics.visits_daily_specialty (day, code, visits)
            SELECT {day}, s.code, count(*)
            FROM scheduling.appointments a JOIN doctors.doctors d ON d.id = a.doctor_id
            CROSS JOIN LATERAL unnest(d.specializations) AS s(code)
            WHERE {due} AND a.status <> 'cancelled' GROUP BY 1, 2""",
        start,
        end,
    )
    await con.execute(
        f"""WITH new AS (
                INSERT INTO analytics.lead_daily (day, micros, visits)
                SELECT {day}, {_MICROS}, count(*)
                FROM scheduling.appointments a
                WHERE {due} AND a.status <> 'cancelled' GROUP BY 1, 2
                RETURNING date_trunc('month', day)::date AS month, micros, visits)
            INSERT INTO analytics.lead_monthly AS m (month, micros, visits)
            SELECT month, micros, sum(visits) FROM new GROUP BY 1, 2 ORDER BY 1, 2
            ON CONFLICT (month, micros) DO UPDATE SET visits = m.visits + EXCLUDED.visits""",
        start,
        end,
    )
    await con.execute(
        """DELETE FROM analytics.lead_monthly
           WHERE visits = 0 AND month >= date_trunc('month', $1 AT TIME ZONE 'UTC')::date
             AND month < ($2 AT TIME ZONE 'UTC')::date""",
        start,
        end,
    )


async def refresh_bookings(con: asyncpg.Connection, start: datetime, end: datetime) -> None:
    """Recompute the booking buckets in [start, end) (both on quarter hours)."""
    await con.execute(
        "DELETE FROM analytics.bookings_quarter WHERE bucket >= $1 AND bucket < $2", start, end
    )
    await con.execute(
        f"""INSERT INTO analytics.bookings_quarter (bucket, bookings)
            SELECT date_bin('{QUARTER}', created_at, '{_ORIGIN}'), count(*)
            FROM scheduling.appointments WHERE created_at >= $1 AND created_at < $2
            GROUP BY 1""",
        start,
        end,
    )


# Revenue (storage/migrations/0034_analytics_revenue.sql): each payment net of the refunds that
# went through, as GET /payments/revenue counts it.
_NET = f"p.amount - {payments.REFUNDED}"


async def refresh_revenue(con: asyncpg.Connection, start: datetime, end: datetime) -> None:
    """Recompute the revenue buckets in [start, end) (both on quarter hours)."""
    await con.execute(
        "DELETE FROM analytics.revenue_quarter WHERE bucket >= $1 AND bucket < $2", start, end
    )
    await con.execute(
        f"""INSERT INTO analytics.revenue_quarter (bucket, currency, payments, net)
            SELECT date_bin('{QUARTER}', p.completed_at, '{_ORIGIN}'), p.currency, count(*),
                   sum({_NET})
            FROM payments.payments p WHERE p.completed_at >= $1 AND p.completed_at < $2
            GROUP BY 1, 2""",
        start,
        end,
    )


async def payment_completions(
    con: asyncpg.Connection, payment_ids: list[uuid.UUID]
) -> list[datetime]:
    """When each of the payments completed (those taken): the bucket it counts in."""
    rows = await con.fetch(
        """SELECT completed_at FROM payments.payments
           WHERE id = ANY($1::uuid[]) AND completed_at IS NOT NULL""",
        payment_ids,
    )
    return [r["completed_at"] for r in rows]


async def rolled_revenue(
    con: asyncpg.Connection, start: datetime, end: datetime, zone: str
) -> list[asyncpg.Record]:
    """(day, currency, net) per local day of `zone` from the revenue buckets in [start, end)."""
    records: list[asyncpg.Record] = await con.fetch(
        """SELECT (bucket AT TIME ZONE $3)::date AS day, currency, sum(net)::bigint AS net
           FROM analytics.revenue_quarter WHERE bucket >= $1 AND bucket < $2
           GROUP BY 1, 2""",
        start,
        end,
        zone,
    )
    return records


async def appointment_instants(
    con: asyncpg.Connection, appointment_ids: list[uuid.UUID]
) -> list[asyncpg.Record]:
    """(start, created_at) of each appointment still there: the day and the bucket it counts
    in."""
    rows: list[asyncpg.Record] = await con.fetch(
        """SELECT lower(period) AS start, created_at FROM scheduling.appointments
           WHERE id = ANY($1::uuid[])""",
        appointment_ids,
    )
    return rows


async def doctor_visit_days(con: asyncpg.Connection, doctor_id: uuid.UUID) -> list[datetime]:
    """The UTC midnights of the days the doctor has appointments due."""
    rows = await con.fetch(
        """SELECT DISTINCT date_trunc('day', lower(period), 'UTC') AS day
           FROM scheduling.appointments WHERE doctor_id = $1""",
        doctor_id,
    )
    return [r["day"] for r in rows]


async def extent(con: asyncpg.Connection) -> asyncpg.Record:
    """The earliest and latest instants the rollups cover (nulls when there is no appointment
    nor payment taken)."""
    record: asyncpg.Record = await con.fetchrow(
        """WITH a AS (SELECT least(min(lower(period)), min(created_at)) AS first,
                             greatest(max(lower(period)), max(created_at)) AS last
                      FROM scheduling.appointments),
                p AS (SELECT min(completed_at) AS first, max(completed_at) AS last
                      FROM payments.payments)
           SELECT least(a.first, p.first) AS first, greatest(a.last, p.last) AS last
           FROM a, p"""
    )
    return record


async def rolled_bookings(
    con: asyncpg.Connection, start: datetime, end: datetime, zone: str
) -> list[asyncpg.Record]:
    """(day, bookings) per local day of `zone` from the buckets in [start, end)."""
    records: list[asyncpg.Record] = await con.fetch(
        """SELECT (bucket AT TIME ZONE $3)::date AS day, sum(bookings)::int AS bookings
           FROM analytics.bookings_quarter WHERE bucket >= $1 AND bucket < $2
           GROUP BY 1 ORDER BY 1""",
        start,
        end,
        zone,
    )
    return records


async def rolled_outcomes(
    con: asyncpg.Connection, first: datetime, end: datetime
) -> asyncpg.Record:
    """Sums over the UTC days in [first, end): total, cancelled, held, no_show."""
    record: asyncpg.Record = await con.fetchrow(
        """SELECT coalesce(sum(total), 0)::int AS total,
                  coalesce(sum(cancelled), 0)::int AS cancelled,
                  coalesce(sum(held), 0)::int AS held,
                  coalesce(sum(no_show), 0)::int AS no_show
           FROM analytics.visits_daily WHERE """
        + _DAYS,
        first,
        end,
    )
    return record


async def rolled_lead(
    con: asyncpg.Connection, first: datetime, end: datetime
) -> list[asyncpg.Record]:
    """(micros, visits) of the visits due on the UTC days in [first, end), not cancelled: the
    whole months from lead_monthly, the days around them from lead_daily."""
    first_day, end_day = first.date(), end.date()
    months_from = first_day if first_day.day == 1 else _next_month(first_day)
    months_to = end_day.replace(day=1)
    if months_from >= months_to:
        months_from = months_to = first_day
    records: list[asyncpg.Record] = await con.fetch(
        """SELECT micros, sum(visits)::int AS visits FROM (
               SELECT micros, visits FROM analytics.lead_monthly
               WHERE month >= $3 AND month < $4
               UNION ALL
               SELECT micros, visits FROM analytics.lead_daily WHERE day >= $1 AND day < $3
               UNION ALL
               SELECT micros, visits FROM analytics.lead_daily WHERE day >= $4 AND day < $2
           ) AS t GROUP BY 1""",
        first_day,
        end_day,
        months_from,
        months_to,
    )
    return records


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


async def lead_micros(
    con: asyncpg.Connection, start: datetime, end: datetime
) -> list[asyncpg.Record]:
    """(micros, visits) of the visits due in [start, end), not cancelled, from the rows."""
    records: list[asyncpg.Record] = await con.fetch(
        f"""SELECT {_MICROS} AS micros, count(*)::int AS visits
            FROM scheduling.appointments a
            WHERE lower(a.period) >= $1 AND lower(a.period) < $2 AND a.status <> 'cancelled'
            GROUP BY 1""",
        start,
        end,
    )
    return records


# The busiest figures over rolled days [$1, $2) plus live ranges [$3[i], $4[i]), ranked.
_BUSIEST = """WITH per_doctor AS (
               SELECT a.doctor_id, count(*) AS n
               FROM unnest($3::timestamptz[], $4::timestamptz[]) AS r(s, e)
               JOIN scheduling.appointments a ON lower(a.period) >= r.s AND lower(a.period) < r.e
               WHERE a.status <> 'cancelled' GROUP BY 1),
           counts AS ({live} UNION ALL {rolled})
           SELECT key, sum(n)::int AS appointments FROM counts
           GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $5"""


async def busiest_rolled(
    con: asyncpg.Connection,
    first: date,
    end: date,
    live: list[tuple[datetime, datetime]],
    limit: int,
) -> tuple[list[asyncpg.Record], list[asyncpg.Record]]:
    """(key, appointments) per specialty and per city, ranked as busiest_specialties and
    busiest_cities rank them: the rolled UTC days [first, end) and the rows of `live`."""
    starts, ends = [a for a, _ in live], [b for _, b in live]
    specialties = await con.fetch(
        _BUSIEST.format(
            live="""SELECT s.code AS key, sum(p.n) AS n
                    FROM per_doctor p JOIN doctors.doctors d ON d.id = p.doctor_id
                    CROSS JOIN LATERAL unnest(d.specializations) AS s(code) GROUP BY 1""",
            rolled="""SELECT code, sum(visits) FROM analytics.visits_daily_specialty
                      WHERE day >= $1 AND day < $2 GROUP BY 1""",
        ),
        first,
        end,
        starts,
        ends,
        limit,
    )
    cities = await con.fetch(
        _BUSIEST.format(
            live="""SELECT d.city AS key, sum(p.n) AS n
                    FROM per_doctor p JOIN doctors.doctors d ON d.id = p.doctor_id
                    WHERE d.city <> '' GROUP BY 1""",
            rolled="""SELECT city, sum(visits) FROM analytics.visits_daily_city
                      WHERE day >= $1 AND day < $2 GROUP BY 1""",
        ),
        first,
        end,
        starts,
        ends,
        limit,
    )
    return list(specialties), list(cities)
