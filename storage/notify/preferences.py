"""Per-user message preferences (language, zone, phone, channels) and one-time MFA codes."""

from __future__ import annotations

import hmac
import uuid
from datetime import datetime

import asyncpg

from storage.notify import Db


async def fetch(db: Db, user_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await db.fetchrow(
        """SELECT language, time_zone, phone, email, sms, in_app
           FROM notify.preferences WHERE user_id = $1""",
        user_id,
    )
    return row


async def save(
    db: Db,
    user_id: uuid.UUID,
    language: str,
    time_zone: str | None,
    phone: str | None,
    email: bool,
    sms: bool,
    in_app: bool,
    now: datetime,
) -> None:
    await db.execute(
        """INSERT INTO notify.preferences (user_id, language, time_zone, phone, email, sms,
                                           in_app, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (user_id) DO UPDATE
           SET language = $2, time_zone = $3, phone = $4, email = $5, sms = $6, in_app = $7,
               updated_at = $8""",
        user_id,
        language,
        time_zone,
        phone,
        email,
        sms,
        in_app,
        now,
    )


async def store_otp(
    db: Db, user_id: uuid.UUID, code_hash: str, channel: str, expires_at: datetime
) -> None:
    await db.execute(
        """INSERT INTO notify.otp_codes (user_id, code_hash, channel, expires_at)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (user_id) DO UPDATE
           SET code_hash = $2, channel = $3, expires_at = $4, attempts = 0""",
        user_id,
        code_hash,
        channel,
        expires_at,
    )


async def spend_otp(
    con: asyncpg.Connection, user_id: uuid.UUID, code_hash: str, now: datetime, max_attempts: int
) -> bool:
    """True (and the code is gone) when `code_hash` is the user's live code; else one attempt
    more is counted, and the code dies after `max_attempts`."""
    row = await con.fetchrow(
        "SELECT code_hash, expires_at, attempts FROM notify.otp_codes WHERE user_id = $1 "
        "FOR UPDATE",
        user_id,
    )
    if row is None or row["expires_at"] <= now or row["attempts"] >= max_attempts:
        return False
    if hmac.compare_digest(row["code_hash"], code_hash):
        await con.execute("DELETE FROM notify.otp_codes WHERE user_id = $1", user_id)
        return True
    await con.execute(
        "UPDATE notify.otp_codes SET attempts = attempts + 1 WHERE user_id = $1", user_id
    )
    return False
