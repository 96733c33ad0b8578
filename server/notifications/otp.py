"""One-time sign-in codes by email or SMS, besides TOTP (OWASP ASVS 2.7: out-of-band
authenticators): 6 digits, valid MARKINI_MFA_OTP_TTL_S, one use, a few tries, sends limited.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta
from typing import Literal

import asyncpg

from server import clock
from server.auth.ratelimit import enforce
from server.engines import Engines
from server.errors import Conflict
from server.notifications.notifier import Outgoing, notify
from storage.notify import preferences
from storage.notify.parties import user_recipient

OtpChannel = Literal["email", "sms"]


def _hash(user_id: uuid.UUID, code: str) -> str:
    return hashlib.sha256(f"{user_id}:{code}".encode()).hexdigest()


async def send_sign_in_code(engines: Engines, user_id: uuid.UUID, channel: OtpChannel) -> None:
    """Queue a fresh code (the previous one dies); 409 when the user has no such channel."""
    settings = engines.settings
    await enforce(engines.limiter, settings.mfa_otp_rate_limit, "mfa-otp", {"user": str(user_id)})
    code = f"{secrets.randbelow(10**6):06d}"
    now = clock.now()
    async with engines.pool.acquire() as con, con.transaction():
        person = await user_recipient(con, user_id)
        if person is None or (channel == "sms" and person.phone is None):
            raise Conflict("No mobile number on this account: ask for the code by email.")
        expires = now + timedelta(seconds=settings.mfa_otp_ttl_s)
        await preferences.store_otp(con, user_id, _hash(user_id, code), channel, expires)
        context = {"code": code, "minutes": max(1, settings.mfa_otp_ttl_s // 60)}
        cause = f"otp:{uuid.uuid4()}"
        await notify(con, Outgoing(cause, "mfa.code", person, context, only=channel), now)


async def accept_sign_in_code(
    con: asyncpg.Connection, user_id: uuid.UUID, code: str, max_attempts: int
) -> bool:
    """Spend the user's live code if `code` is it (in the caller's transaction)."""
    return await preferences.spend_otp(
        con, user_id, _hash(user_id, code), clock.now(), max_attempts
    )
