"""Bulk SQL of the scheduling demo seed (COPY / pipelined executemany: one round trip each)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

# Shared by every node: two nodes seeding at once take turns, the second finds everything done.
SEED_LOCK_KEY = 0x4D4B5343484544


async def lock_seed(con: asyncpg.Connection) -> None:
    await con.execute("SELECT pg_advisory_xact_lock($1)", SEED_LOCK_KEY)


async def doctors_without_rules(con: asyncpg.Connection) -> list[asyncpg.Record]:
    """Doctors who never had availability: the ones the seed gives an agenda."""
    rows = await con.fetch(
        """SELECT d.id, d.time_zone, d.consultation_fee, d.currency, d.country, u.email
           FROM doctors.doctors d JOIN auth.users u ON u.id = d.user_id
           WHERE NOT EXISTS (SELECT 1 FROM scheduling.weekly_rules r WHERE r.doctor_id = d.id)
             AND NOT EXISTS (SELECT 1 FROM scheduling.appointments a WHERE a.doctor_id = d.id)
           ORDER BY d.id"""
    )
    return list(rows)


async def bookable_patients(con: asyncpg.Connection) -> list[asyncpg.Record]:
    """Patients with a live account (id, email), for demo appointments."""
    rows = await con.fetch(
        """SELECT p.id, u.email FROM patients.patients p JOIN auth.users u ON u.id = p.user_id
           WHERE p.erased_at IS NULL ORDER BY p.id"""
    )
    return list(rows)


async def copy_rules(con: asyncpg.Connection, rows: Sequence[Sequence[Any]]) -> None:
    await con.copy_records_to_table(
        "weekly_rules",
        schema_name="scheduling",
        columns=[
            "doctor_id",
            "day_of_week",
            "start_time",
            "end_time",
            "slot_minutes",
            "visit_type",
            "location",
        ],
        records=rows,
    )


async def copy_exceptions(con: asyncpg.Connection, rows: Sequence[Sequence[Any]]) -> None:
    await con.copy_records_to_table(
        "date_exceptions",
        schema_name="scheduling",
        columns=["doctor_id", "kind", "start_date", "end_date", "note"],
        records=rows,
    )


async def copy_reasons(con: asyncpg.Connection, rows: Sequence[Sequence[Any]]) -> None:
    await con.copy_records_to_table(
        "visit_reasons",
        schema_name="scheduling",
        columns=[
            "id",
            "doctor_id",
            "name",
            "duration_minutes",
            "visit_types",
            "fee_override",
            "new_patients_allowed",
            "position",
        ],
        records=rows,
    )


async def insert_appointments(con: asyncpg.Connection, rows: Sequence[Sequence[Any]]) -> None:
    """Rows: id, doctor_id, patient_id, start, end, visit_type, status, reason_id, location,
    notes, fee, currency, cancelled_by, cancellation_reason, created_at.

    executemany (pipelined) rather than COPY: binary COPY has no encoder for the jsonb notes.
    """
    await con.executemany(
        """INSERT INTO scheduling.appointments
               (id, doctor_id, patient_id, period, visit_type, status, reason_id, location,
                notes, fee, currency, cancelled_by, cancellation_reason, created_at, updated_at)
           VALUES ($1, $2, $3, tstzrange($4, $5, '[)'), $6, $7, $8, $9, $10, $11, $12, $13,
                   $14, $15, $15)""",
        rows,
    )
