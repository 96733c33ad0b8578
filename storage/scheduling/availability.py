"""Weekly rules, date exceptions, visit reasons and per-doctor settings.

Rows go in and out as mappings keyed like the domain's types (server/scheduling/model.py:
WeeklyRule, DateException, VisitReason, DoctorSettings), which the service builds from them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeAlias

import asyncpg

Reader: TypeAlias = asyncpg.Connection | asyncpg.Pool
Row: TypeAlias = Mapping[str, Any]

# The keys of the rows fetch_availability gives, in the order its ROW(...) columns come.
RULE_KEYS = ("id", "day_of_week", "start", "end", "slot_minutes", "visit_type", "location")
EXCEPTION_KEYS = (
    "id",
    "kind",
    "start_date",
    "end_date",
    "start",
    "end",
    "slot_minutes",
    "visit_type",
    "location",
    "note",
)
REASON_KEYS = (
    "id",
    "name",
    "duration_minutes",
    "visit_types",
    "fee_override",
    "new_patients_allowed",
    "refund_cutoff_hours",
    "late_refund_percent",
    "cancel_reason_required",
    "pay_at_visit",
)


@dataclass(frozen=True)
class StoredAvailability:
    rules: list[dict[str, Any]]
    exceptions: list[dict[str, Any]]
    reasons: list[dict[str, Any]]
    settings: dict[str, Any] | None  # None: the doctor never saved settings
    stamp: uuid.UUID | None  # availability_versions.rules_stamp of this content (migration 0014)


async def fetch_availability(
    con: Reader, doctor_id: uuid.UUID, exceptions_ending_from: date | None = None
) -> StoredAvailability:
    """Rules, exceptions (those still relevant on or after the date; all when None), active
    reasons, settings and the stamp naming them, in one round trip (one snapshot)."""
    row = await con.fetchrow(
        """SELECT
             (SELECT array_agg(ROW(id, day_of_week, start_time, end_time, slot_minutes,
                                   visit_type, location) ORDER BY day_of_week, start_time)
              FROM scheduling.weekly_rules WHERE doctor_id = $1) AS rules,
             (SELECT array_agg(ROW(id, kind, start_date, end_date, start_time, end_time,
                                   slot_minutes, visit_type, location, note)
                               ORDER BY start_date, start_time NULLS FIRST)
              FROM scheduling.date_exceptions
              WHERE doctor_id = $1 AND ($2::date IS NULL OR end_date >= $2)) AS exceptions,
             (SELECT array_agg(ROW(id, name, duration_minutes, visit_types, fee_override,
                                   new_patients_allowed, refund_cutoff_hours,
                                   late_refund_percent, cancel_reason_required, pay_at_visit)
                               ORDER BY position, name)
              FROM scheduling.visit_reasons
              WHERE doctor_id = $1 AND archived_at IS NULL) AS reasons,
             s.min_notice_minutes, s.max_horizon_days, s.buffer_minutes, v.rules_stamp
           FROM (SELECT 1) AS one
           LEFT JOIN scheduling.doctor_settings s ON s.doctor_id = $1
           LEFT JOIN scheduling.availability_versions v ON v.doctor_id = $1""",
        doctor_id,
        exceptions_ending_from,
    )
    assert row is not None
    settings = None
    if row["min_notice_minutes"] is not None:
        keys = ("min_notice_minutes", "max_horizon_days", "buffer_minutes")
        settings = {key: row[key] for key in keys}
    return StoredAvailability(
        [dict(zip(RULE_KEYS, r, strict=True)) for r in row["rules"] or ()],
        [dict(zip(EXCEPTION_KEYS, e, strict=True)) for e in row["exceptions"] or ()],
        [dict(zip(REASON_KEYS, r, strict=True)) for r in row["reasons"] or ()],
        settings,
        row["rules_stamp"],
    )


async def replace_rules(
    con: asyncpg.Connection, doctor_id: uuid.UUID, rules: Sequence[Row]
) -> None:
    await con.execute("DELETE FROM scheduling.weekly_rules WHERE doctor_id = $1", doctor_id)
    await con.executemany(
        """INSERT INTO scheduling.weekly_rules
               (doctor_id, day_of_week, start_time, end_time, slot_minutes, visit_type, location)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        [
            (
                doctor_id,
                r["day_of_week"],
                r["start"],
                r["end"],
                r["slot_minutes"],
                r["visit_type"],
                r["location"],
            )
            for r in rules
        ],
    )


async def replace_exceptions(
    con: asyncpg.Connection, doctor_id: uuid.UUID, exceptions: Sequence[Row]
) -> None:
    await con.execute("DELETE FROM scheduling.date_exceptions WHERE doctor_id = $1", doctor_id)
    await con.executemany(
        """INSERT INTO scheduling.date_exceptions
               (doctor_id, kind, start_date, end_date, start_time, end_time, slot_minutes,
                visit_type, location, note)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
        [
            (
                doctor_id,
                e["kind"],
                e["start_date"],
                e["end_date"],
                e["start"],
                e["end"],
                e["slot_minutes"],
                e["visit_type"],
                e["location"],
                e["note"],
            )
            for e in exceptions
        ],
    )


async def reason_ids(con: asyncpg.Connection, doctor_id: uuid.UUID) -> set[uuid.UUID]:
    """Ids of the doctor's reasons, archived ones included (saving one revives it)."""
    rows = await con.fetch(
        "SELECT id FROM scheduling.visit_reasons WHERE doctor_id = $1", doctor_id
    )
    return {r["id"] for r in rows}


async def save_reasons(
    con: asyncpg.Connection, doctor_id: uuid.UUID, reasons: Sequence[Row], now: datetime
) -> None:
    """Upsert the given reasons (ids chosen by the caller) and archive every other one (as of
    `now`)."""
    await con.executemany(
        """INSERT INTO scheduling.visit_reasons
               (id, doctor_id, name, duration_minutes, visit_types, fee_override,
                new_patients_allowed, position, refund_cutoff_hours, late_refund_percent,
                cancel_reason_required, pay_at_visit)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
           ON CONFLICT (id) DO UPDATE SET
               name = EXCLUDED.name, duration_minutes = EXCLUDED.duration_minutes,
               visit_types = EXCLUDED.visit_types, fee_override = EXCLUDED.fee_override,
               new_patients_allowed = EXCLUDED.new_patients_allowed,
               refund_cutoff_hours = EXCLUDED.refund_cutoff_hours,
               late_refund_percent = EXCLUDED.late_refund_percent,
               cancel_reason_required = EXCLUDED.cancel_reason_required,
               pay_at_visit = EXCLUDED.pay_at_visit,
               position = EXCLUDED.position, archived_at = NULL
           WHERE scheduling.visit_reasons.doctor_id = EXCLUDED.doctor_id""",
        [
            (
                r["id"],
                doctor_id,
                r["name"],
                r["duration_minutes"],
                list(r["visit_types"]),
                r["fee_override"],
                r["new_patients_allowed"],
                position,
                r["refund_cutoff_hours"],
                r["late_refund_percent"],
                r["cancel_reason_required"],
                r["pay_at_visit"],
            )
            for position, r in enumerate(reasons)
        ],
    )
    await con.execute(
        """UPDATE scheduling.visit_reasons SET archived_at = $3
           WHERE doctor_id = $1 AND archived_at IS NULL AND NOT (id = ANY($2::uuid[]))""",
        doctor_id,
        [r["id"] for r in reasons],
        now,
    )


async def save_settings(
    con: asyncpg.Connection, doctor_id: uuid.UUID, settings: Row, now: datetime
) -> None:
    await con.execute(
        """INSERT INTO scheduling.doctor_settings
               (doctor_id, min_notice_minutes, max_horizon_days, buffer_minutes, updated_at)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (doctor_id) DO UPDATE SET
               min_notice_minutes = EXCLUDED.min_notice_minutes,
               max_horizon_days = EXCLUDED.max_horizon_days,
               buffer_minutes = EXCLUDED.buffer_minutes, updated_at = EXCLUDED.updated_at""",
        doctor_id,
        settings["min_notice_minutes"],
        settings["max_horizon_days"],
        settings["buffer_minutes"],
        now,
    )
