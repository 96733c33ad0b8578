"""The per-doctor availability version: bumped by every change to a doctor's free slots."""

from __future__ import annotations

import uuid

import asyncpg


async def bump_version(con: asyncpg.Connection, doctor_id: uuid.UUID) -> int:
    """Increment and return the version; the row lock serialises slot changes per doctor."""
    version = await con.fetchval(
        """INSERT INTO scheduling.availability_versions AS v (doctor_id, version)
           VALUES ($1, 1)
           ON CONFLICT (doctor_id) DO UPDATE SET version = v.version + 1
           RETURNING version""",
        doctor_id,
    )
    return int(version)


async def lock_version(con: asyncpg.Connection, doctor_id: uuid.UUID) -> None:
    """Take bump_version's row lock without bumping: for a transaction that may change the
    doctor's slots later and must take this lock before any other (an appointment's, a
    waitlist offer's)."""
    await con.execute(
        "SELECT 1 FROM scheduling.availability_versions WHERE doctor_id = $1 FOR UPDATE",
        doctor_id,
    )


async def current_version(con: asyncpg.Connection | asyncpg.Pool, doctor_id: uuid.UUID) -> int:
    version = await con.fetchval(
        "SELECT version FROM scheduling.availability_versions WHERE doctor_id = $1", doctor_id
    )
    return int(version or 0)


async def bump_versions(
    con: asyncpg.Connection, doctor_ids: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Bulk bump for seeding (one statement for many doctors); the new versions by doctor."""
    rows = await con.fetch(
        """INSERT INTO scheduling.availability_versions AS v (doctor_id, version)
           SELECT unnest($1::uuid[]), 1
           ON CONFLICT (doctor_id) DO UPDATE SET version = v.version + 1
           RETURNING doctor_id, version""",
        doctor_ids,
    )
    return {r["doctor_id"]: int(r["version"]) for r in rows}
