"""Batch reads of appointment parties (doctors, patients): one statement per batch of ids.

Read-only across the owning domains' tables; callers decide who may see what (an appointment's
parties see its doctor and patient; GraphQL loaders and FHIR Appointment specialties).
"""

from __future__ import annotations

import uuid

import asyncpg


async def doctors_by_ids(con: asyncpg.Connection, ids: list[uuid.UUID]) -> list[asyncpg.Record]:
    """id, first_name, last_name, specializations (codes), rating, time_zone, city."""
    records: list[asyncpg.Record] = await con.fetch(
        """SELECT id, first_name, last_name, specializations, rating::float8 AS rating,
                  time_zone, city
           FROM doctors.doctors WHERE id = ANY($1::uuid[])""",
        ids,
    )
    return records


async def patients_by_ids(con: asyncpg.Connection, ids: list[uuid.UUID]) -> list[asyncpg.Record]:
    """id, first_name, last_name (blanked for an erased patient, whose row stays)."""
    records: list[asyncpg.Record] = await con.fetch(
        """SELECT id, first_name, last_name FROM patients.patients WHERE id = ANY($1::uuid[])""",
        ids,
    )
    return records
