"""SQL of proxy links (patients.relatives, migration 0023): who manages which relative's profile."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

_LINK = """l.id AS link_id, l.proxy_user_id, l.relative_id, l.relationship, l.consent_basis,
           l.consent_at, l.consent_by, l.can_view_history, l.created_at AS linked_at,
           p.first_name, p.last_name, p.date_of_birth, p.gender, p.phone, p.user_id"""


async def insert_relative(
    con: asyncpg.Connection,
    *,
    proxy_user_id: uuid.UUID,
    first_name: str,
    last_name: str,
    date_of_birth: object,
    gender: str | None,
    relationship: str,
    consent_basis: str,
    can_view_history: bool,
    now: datetime,
) -> uuid.UUID:
    """A login-less patient profile and its link to the proxy, in one statement; the new id."""
    relative_id: uuid.UUID = await con.fetchval(
        """WITH p AS (
               INSERT INTO patients.patients
                   (first_name, last_name, date_of_birth, gender, created_at, updated_at)
               VALUES ($2, $3, $4, $5, $9, $9) RETURNING id)
           INSERT INTO patients.relatives (proxy_user_id, relative_id, relationship,
                                           consent_basis, consent_at, consent_by,
                                           can_view_history, created_at)
           SELECT $1, p.id, $6, $7, $9, $1, $8, $9 FROM p
           RETURNING relative_id""",
        proxy_user_id,
        first_name,
        last_name,
        date_of_birth,
        gender,
        relationship,
        consent_basis,
        can_view_history,
        now,
    )
    return relative_id


async def list_relatives(con: asyncpg.Connection, proxy_user_id: uuid.UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await con.fetch(
        f"""SELECT {_LINK}
            FROM patients.relatives l JOIN patients.patients p ON p.id = l.relative_id
            WHERE l.proxy_user_id = $1 AND l.revoked_at IS NULL AND p.erased_at IS NULL
            ORDER BY l.created_at, l.id""",
        proxy_user_id,
    )
    return rows


async def active_link(
    con: asyncpg.Connection | asyncpg.Pool,
    proxy_user_id: uuid.UUID,
    relative_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> asyncpg.Record | None:
    """The proxy's live link to this (not erased) relative, with the relative's profile."""
    lock = " FOR UPDATE OF l" if for_update else ""
    row: asyncpg.Record | None = await con.fetchrow(
        f"""SELECT {_LINK}
            FROM patients.relatives l JOIN patients.patients p ON p.id = l.relative_id
            WHERE l.proxy_user_id = $1 AND l.relative_id = $2 AND l.revoked_at IS NULL
              AND p.erased_at IS NULL{lock}""",
        proxy_user_id,
        relative_id,
    )
    return row


async def booking_link(
    con: asyncpg.Connection, user_id: uuid.UUID, patient_id: uuid.UUID
) -> asyncpg.Record | None:
    """The booking check: a row when `patient_id` is the user's own profile (`relationship`
    null) or a relative they manage (`relationship` and the proxy's `proxy_name`), else None."""
    row: asyncpg.Record | None = await con.fetchrow(
        """SELECT l.relationship, me.first_name || ' ' || me.last_name AS proxy_name
           FROM patients.patients p
           LEFT JOIN patients.relatives l
             ON l.relative_id = p.id AND l.proxy_user_id = $1 AND l.revoked_at IS NULL
           LEFT JOIN patients.patients me ON me.user_id = $1
           WHERE p.id = $2 AND p.erased_at IS NULL
             AND (p.user_id = $1 OR l.id IS NOT NULL)""",
        user_id,
        patient_id,
    )
    return row


async def share_link(
    con: asyncpg.Connection, proxy_user_id: uuid.UUID, relative_id: uuid.UUID
) -> bool:
    """In the caller's transaction: the proxy's link to the relative is live, and locked FOR
    SHARE until the end of it (a removal's FOR UPDATE waits, or if it came first, its revocation
    is seen here: False). What a proxy's change to the relative's appointments takes first."""
    live: bool = await con.fetchval(
        """SELECT EXISTS (SELECT 1 FROM patients.relatives
                          WHERE proxy_user_id = $1 AND relative_id = $2 AND revoked_at IS NULL
                          FOR SHARE)""",
        proxy_user_id,
        relative_id,
    )
    return live


async def share_acted_for(con: asyncpg.Connection, patient_id: uuid.UUID) -> bool:
    """In the caller's transaction: the patient is not erased and someone acts for them
    (patients.acting_users), their row locked FOR SHARE until the end of it, so a removal of
    the relative (which locks it FOR UPDATE, then erases them when nobody else acts) waits, or
    went first and this says False."""
    acted: bool | None = await con.fetchval(
        """SELECT EXISTS (SELECT 1 FROM patients.acting_users a WHERE a.patient_id = p.id)
           FROM patients.patients p WHERE p.id = $1 AND p.erased_at IS NULL
           FOR SHARE OF p""",
        patient_id,
    )
    return bool(acted)


async def update_link(
    con: asyncpg.Connection,
    link_id: uuid.UUID,
    *,
    relationship: str,
    consent_basis: str,
    can_view_history: bool,
    consent_at: datetime,
    consent_by: uuid.UUID,
) -> None:
    await con.execute(
        """UPDATE patients.relatives
           SET relationship = $2, consent_basis = $3, can_view_history = $4, consent_at = $5,
               consent_by = $6
           WHERE id = $1""",
        link_id,
        relationship,
        consent_basis,
        can_view_history,
        consent_at,
        consent_by,
    )


async def revoke_link(con: asyncpg.Connection, link_id: uuid.UUID, now: datetime) -> None:
    await con.execute(
        "UPDATE patients.relatives SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
        link_id,
        now,
    )


async def acts_for(
    db: asyncpg.Connection | asyncpg.Pool, user_id: uuid.UUID, patient_id: uuid.UUID
) -> bool:
    """The user acts for the patient now (patients.acting_users: their own login or a live
    proxy link, of an active account)."""
    found: bool = await db.fetchval(
        """SELECT EXISTS (SELECT 1 FROM patients.acting_users
                          WHERE patient_id = $1 AND user_id = $2)""",
        patient_id,
        user_id,
    )
    return found


async def other_carers(
    con: asyncpg.Connection, relative_id: uuid.UUID, proxy_user_id: uuid.UUID
) -> bool:
    """Someone else acts for this relative (patients.acting_users: their own login or another
    live proxy, an active account either way: a suspended one would hear of nothing)."""
    found: bool = await con.fetchval(
        """SELECT EXISTS (SELECT 1 FROM patients.acting_users
                          WHERE patient_id = $1 AND user_id <> $2)""",
        relative_id,
        proxy_user_id,
    )
    return found


async def other_links(
    con: asyncpg.Connection, relative_id: uuid.UUID, proxy_user_id: uuid.UUID
) -> bool:
    """Someone else is linked to this relative, whatever their account's state: their own
    login or another unrevoked proxy link. Unlike other_carers, a suspended account counts:
    suspension is reversible, so the relative is not erased from under it."""
    found: bool = await con.fetchval(
        """SELECT EXISTS (SELECT 1 FROM patients.patients
                          WHERE id = $1 AND user_id IS NOT NULL)
               OR EXISTS (SELECT 1 FROM patients.relatives
                          WHERE relative_id = $1 AND proxy_user_id <> $2 AND revoked_at IS NULL)""",
        relative_id,
        proxy_user_id,
    )
    return found


async def upcoming_appointments(
    con: asyncpg.Connection, relative_id: uuid.UUID, now: datetime
) -> list[asyncpg.Record]:
    """The relative's active (held, scheduled, confirmed) appointments starting after `now`,
    soonest first: `id`, `start_at`, `end_at`, `status`, `visit_type`, `doctor_id`,
    `doctor_name` ("Dr First Last"), `time_zone` (the practice's IANA zone)."""
    # Cross-schema read of scheduling.appointments and doctors.doctors (their domains'
    # tables): removing a relative must not leave their coming visits without anyone told.
    rows: list[asyncpg.Record] = await con.fetch(
        """SELECT a.id, lower(a.period) AS start_at, upper(a.period) AS end_at, a.status,
                  a.visit_type, a.doctor_id,
                  'Dr ' || d.first_name || ' ' || d.last_name AS doctor_name, d.time_zone
           FROM scheduling.appointments a JOIN doctors.doctors d ON d.id = a.doctor_id
           WHERE a.patient_id = $1 AND a.status IN ('held', 'scheduled', 'confirmed')
             AND lower(a.period) > $2
           ORDER BY lower(a.period), a.id""",
        relative_id,
        now,
    )
    return rows


async def revoke_all_for_proxy(
    con: asyncpg.Connection, proxy_user_id: uuid.UUID, now: datetime
) -> list[uuid.UUID]:
    """Every live link of the proxy revoked (their account goes); the relatives' ids."""
    rows = await con.fetch(
        """UPDATE patients.relatives SET revoked_at = $2
           WHERE proxy_user_id = $1 AND revoked_at IS NULL RETURNING relative_id""",
        proxy_user_id,
        now,
    )
    return [r["relative_id"] for r in rows]


async def revoke_all_for_relative(
    con: asyncpg.Connection, relative_id: uuid.UUID, now: datetime
) -> list[uuid.UUID]:
    """Every live link to the relative revoked (they are erased); the proxies' user ids."""
    rows = await con.fetch(
        """UPDATE patients.relatives SET revoked_at = $2
           WHERE relative_id = $1 AND revoked_at IS NULL RETURNING proxy_user_id""",
        relative_id,
        now,
    )
    return [r["proxy_user_id"] for r in rows]


async def relative_ids_for_proxy(
    con: asyncpg.Connection | asyncpg.Pool, proxy_user_id: uuid.UUID
) -> list[uuid.UUID]:
    rows = await con.fetch(
        """SELECT relative_id FROM patients.relatives
           WHERE proxy_user_id = $1 AND revoked_at IS NULL""",
        proxy_user_id,
    )
    return [r["relative_id"] for r in rows]


# The links as FHIR RelatedPerson shows them (server/patients/related.py): revoked ones too, of
# relatives not erased; the proxy's name from their own profile (none once erased).
_RELATED = """SELECT l.id, l.proxy_user_id, l.relative_id, l.relationship, l.created_at,
                     l.revoked_at, me.first_name, me.last_name
              FROM patients.relatives l
              JOIN patients.patients p ON p.id = l.relative_id AND p.erased_at IS NULL
              LEFT JOIN patients.patients me ON me.user_id = l.proxy_user_id"""


async def related_link(con: asyncpg.Connection, link_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await con.fetchrow(_RELATED + " WHERE l.id = $1", link_id)
    return row


async def links_of_relative(
    con: asyncpg.Connection, relative_id: uuid.UUID
) -> list[asyncpg.Record]:
    """Every link to the relative, live and revoked, oldest first."""
    rows: list[asyncpg.Record] = await con.fetch(
        _RELATED + " WHERE l.relative_id = $1 ORDER BY l.created_at, l.id", relative_id
    )
    return rows


async def link_ids(
    con: asyncpg.Connection, pairs: list[tuple[uuid.UUID, uuid.UUID]]
) -> dict[tuple[uuid.UUID, uuid.UUID], uuid.UUID]:
    """The link id of each (proxy user id, relative id) pair that has one."""
    rows = await con.fetch(
        """SELECT l.id, l.proxy_user_id, l.relative_id
           FROM unnest($1::uuid[], $2::uuid[]) AS q(proxy_user_id, relative_id)
           JOIN patients.relatives l USING (proxy_user_id, relative_id)""",
        [proxy for proxy, _ in pairs],
        [relative for _, relative in pairs],
    )
    return {(r["proxy_user_id"], r["relative_id"]): r["id"] for r in rows}
