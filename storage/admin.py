"""Read models of the admin pages: user search and the doctor verification queue.

Read-only across the owning domains' tables (auth, patients, doctors); every change goes through
the owning domain's service.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True)
class UserFilter:
    text: str | None = None  # part of the email or of the person's name, case-insensitive
    role: str | None = None
    active: bool | None = None
    after: tuple[datetime, uuid.UUID] | None = None  # keyset: rows older than this one
    user_id: uuid.UUID | None = None


async def search_users(
    con: asyncpg.Connection, where: UserFilter, limit: int
) -> list[asyncpg.Record]:
    """Newest accounts first: id, email, role, is_active, is_verified, created_at, name."""
    await con.execute("SET LOCAL plan_cache_mode = force_custom_plan")
    pattern = f"%{_escape_like(where.text)}%" if where.text else None
    after_at, after_id = where.after if where.after else (None, None)
    records: list[asyncpg.Record] = await con.fetch(
        """SELECT u.id, u.email, u.role, u.is_active, u.is_verified, u.created_at,
                  coalesce(d.first_name || ' ' || d.last_name,
                           p.first_name || ' ' || p.last_name) AS name
           FROM auth.users u
           LEFT JOIN doctors.doctors d ON d.user_id = u.id
           LEFT JOIN patients.patients p ON p.user_id = u.id
           WHERE ($1::text IS NULL OR u.email ILIKE $1
                  OR (d.first_name || ' ' || d.last_name) ILIKE $1
                  OR (p.first_name || ' ' || p.last_name) ILIKE $1)
             AND ($2::text IS NULL OR u.role = $2)
             AND ($3::boolean IS NULL OR u.is_active = $3)
             AND ($4::timestamptz IS NULL OR (u.created_at, u.id) < ($4, $5::uuid))
             AND ($7::uuid IS NULL OR u.id = $7)
           ORDER BY u.created_at DESC, u.id DESC
           LIMIT $6""",
        pattern,
        where.role,
        where.active,
        after_at,
        after_id,
        limit,
        where.user_id,
    )
    return records


async def verification_queue(
    con: asyncpg.Connection, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[asyncpg.Record]:
    """Unverified doctors, oldest request first: id, user_id, email, names, licence, city,
    specializations, created_at."""
    after_at, after_id = after if after else (None, None)
    records: list[asyncpg.Record] = await con.fetch(
        """SELECT d.id, d.user_id, u.email, d.first_name, d.last_name, d.license_number,
                  d.city, d.specializations, d.created_at
           FROM doctors.doctors d JOIN auth.users u ON u.id = d.user_id
           WHERE d.verification_status = 'unverified'
             AND ($1::timestamptz IS NULL OR (d.created_at, d.id) > ($1, $2::uuid))
           ORDER BY d.created_at, d.id
           LIMIT $3""",
        after_at,
        after_id,
        limit,
    )
    return records


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
