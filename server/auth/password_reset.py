"""Forgotten passwords: an emailed, single-use, expiring link; using it ends every session."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from server import clock
from server.audit.service import record_change
from server.auth.errors import (
    PASSWORD_POLICY,
    RESET_LINK_GONE,
    RESET_LINK_INVALID,
    ResetTokenGone,
    ResetTokenInvalid,
)
from server.auth.passwords import hash_password, password_errors
from server.auth.ratelimit import enforce
from server.auth.schemas import Accepted, ResetPasswordRequest
from server.auth.sessions import ClientInfo
from server.auth.tokens import hash_token, new_opaque_token
from server.engines import Engines
from server.errors import InvalidInput
from server.notifications.render import password_reset_params
from storage import auth as store

log = logging.getLogger(__name__)

# The same words whether or not the account exists: the answer must not reveal which.
FORGOT_ANSWER = "If an account exists for this email, we have sent it a link to reset the password."
RESET_SUBJECT = "Reset your Markini password"
CHANGED_SUBJECT = "Your Markini password was changed"


async def forgot_password(engines: Engines, email: str, client: ClientInfo) -> Accepted:
    settings = engines.settings
    await enforce(
        engines.limiter,
        settings.forgot_rate_limit,
        "forgot",
        {"ip": client.ip_address or "unknown", "email": email},
    )
    # The token and the message are made either way, and one statement stores them only if the
    # account exists, so both cases cost the same work and one round trip. The outbox keeps the
    # token sealed; the link is rendered at send time (server.notifications.render).
    token = new_opaque_token()
    message_id = uuid.uuid4()
    now = clock.now()
    async with engines.pool.acquire() as con, con.transaction():
        await store.create_password_reset(
            con,
            email,
            hash_token(token),
            now + timedelta(seconds=settings.reset_token_ttl_s),
            message_id,
            RESET_SUBJECT,
            password_reset_params(settings, message_id, token, settings.reset_token_ttl_s),
            now,
        )
        await record_change(con)
    return Accepted(detail=FORGOT_ANSWER)


async def reset_password(engines: Engines, body: ResetPasswordRequest) -> None:
    errors = password_errors(body.new_password, field="new_password")
    if errors:
        raise InvalidInput(PASSWORD_POLICY, errors)
    password_hash = await hash_password(body.new_password)
    async with engines.pool.acquire() as con, con.transaction():
        now = clock.now()
        reset = await store.password_reset_for_update(con, hash_token(body.token), now)
        if reset is None:
            raise ResetTokenInvalid(RESET_LINK_INVALID)
        if reset.used or reset.expired:
            raise ResetTokenGone(RESET_LINK_GONE)
        await store.update_password_hash(con, reset.user_id, password_hash, now)
        await store.spend_password_resets(con, reset.user_id, now)
        # Whoever knew the old password is signed out everywhere.
        await store.revoke_user_sessions(con, reset.user_id, now)
        await record_change(con, resource_id=reset.user_id)
        await store.queue_email(
            con,
            reset.email,
            "password-changed",
            CHANGED_SUBJECT,
            "Your Markini password was just changed and every session was signed out.\n"
            "If this was not you, reset your password now and contact support.\n",
            now,
        )
    log.info("password reset", extra={"user_id": str(reset.user_id)})
