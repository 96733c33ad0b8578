"""Two-factor authentication: TOTP enrolment, the second sign-in step, recovery codes, and
one-time codes by email or SMS for that step (server/notifications/otp.py).

The TOTP secret is stored encrypted (server.crypto, bound to the user id). A code is accepted in
the current 30-second step or one either side (clock drift), and never twice: the step of the
last accepted code is stored, so an intercepted code cannot be replayed within its window.
"""

from __future__ import annotations

import logging
import secrets
import uuid

import asyncpg
import pyotp
from pyotp.exceptions import OTPVerificationError

from server import clock
from server.audit.service import record_change
from server.auth import sessions, throttle
from server.auth.errors import (
    MFA_OFF,
    MFA_ON,
    MFA_STEP_EXPIRED,
    WRONG_CODE,
    InvalidMfaCode,
    MfaAlreadyEnabled,
    MfaNotEnrolled,
)
from server.auth.principal import Principal
from server.auth.ratelimit import enforce
from server.auth.schemas import (
    MfaEnrolment,
    RecoveryCodes,
    SendMfaCodeRequest,
    TokenResponse,
    VerifyMfaRequest,
)
from server.auth.sessions import ClientInfo
from server.auth.tokens import decode_mfa_token, hash_token
from server.crypto import FieldCipher
from server.engines import Engines
from server.errors import NO_SUCH_ACCOUNT, NotFound, Unauthenticated
from server.notifications import otp
from storage import auth as store

log = logging.getLogger(__name__)

ISSUER = "Markini"
RECOVERY_CODE_COUNT = 10
TOTP_VALID_WINDOW = 1  # one 30 s step either side of now


def _aad(user_id: uuid.UUID) -> bytes:
    # Binds the ciphertext to its owner: a secret copied onto another user's row won't decrypt.
    return f"auth.mfa_secrets:{user_id}".encode()


def _new_recovery_code() -> str:
    raw = secrets.token_hex(8)  # 64 random bits: a fast hash is enough at rest
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def _normalise(code: str) -> str:
    return code.replace("-", "").replace(" ", "").lower()


async def _limit(engines: Engines, user_id: uuid.UUID) -> None:
    # 10^6 TOTP codes: without a limit, 3 valid codes at a time fall to guessing in hours. Here
    # the caller is signed in already (confirm, disable); the sign-in step uses the throttle.
    await enforce(engines.limiter, engines.settings.login_rate_limit, "mfa", {"user": str(user_id)})


def _totp_step(
    engines: Engines, user_id: uuid.UUID, record: store.MfaRecord, code: str
) -> int | None:
    """The time step `code` belongs to, if it is valid and newer than the last one used."""
    secret = FieldCipher(engines.settings).decrypt(record.secret, _aad(user_id))
    try:
        step: int = pyotp.TOTP(secret).verify_and_get_timecode(code, valid_window=TOTP_VALID_WINDOW)
    except OTPVerificationError:
        return None
    return step if step > record.last_used_step else None


async def _accept_code(
    engines: Engines,
    con: asyncpg.Connection,
    user_id: uuid.UUID,
    record: store.MfaRecord,
    code: str,
) -> bool:
    """Check a TOTP (or, once MFA is on, a recovery code) and spend it, in the caller's tx.

    `record` must have been read with `mfa_secret_for_update` in that same transaction.
    """
    normalised = _normalise(code)
    if len(normalised) == 6 and normalised.isdigit():
        step = _totp_step(engines, user_id, record, normalised)
        if step is None:
            return False
        await store.record_mfa_step(con, user_id, step)
        return True
    spent = hash_token(normalised)
    return record.confirmed and await store.use_recovery_code(con, user_id, spent, clock.now())


async def enroll(engines: Engines, principal: Principal) -> MfaEnrolment:
    """A new secret, unconfirmed until a code from it comes back to /mfa/confirm."""
    user = await store.user_by_id(engines.pool, principal.user_id)
    if user is None:
        raise NotFound(NO_SUCH_ACCOUNT)
    secret = pyotp.random_base32()
    encrypted = FieldCipher(engines.settings).encrypt(secret, _aad(user.id))
    async with engines.pool.acquire() as con, con.transaction():
        if not await store.upsert_mfa_secret(con, user.id, dict(encrypted), clock.now()):
            raise MfaAlreadyEnabled(MFA_ON)
        await record_change(con, resource_id=user.id)
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    return MfaEnrolment(secret=secret, otpauth_uri=uri)


async def confirm(engines: Engines, principal: Principal, code: str) -> RecoveryCodes:
    """Turn MFA on with a first valid code; hand out the recovery codes, once."""
    user_id = principal.user_id
    await _limit(engines, user_id)
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    async with engines.pool.acquire() as con, con.transaction():
        record = await store.mfa_secret_for_update(con, user_id)
        if record is None:
            raise MfaNotEnrolled(MFA_OFF)
        if record.confirmed:
            raise MfaAlreadyEnabled(MFA_ON)
        if not await _accept_code(engines, con, user_id, record, code):
            raise InvalidMfaCode(WRONG_CODE)
        hashes = [hash_token(_normalise(c)) for c in codes]
        await store.enable_mfa(con, user_id, hashes, clock.now())
        await record_change(con, resource_id=user_id)
    log.info("mfa enabled", extra={"user_id": str(user_id)})
    return RecoveryCodes(recovery_codes=codes)


async def send_login_code(engines: Engines, body: SendMfaCodeRequest) -> None:
    """Email or text a one-time code for the second sign-in step (MFA must be on, the
    mfa_token not yet exchanged for a session)."""
    step = decode_mfa_token(engines.settings, body.mfa_token)
    user = await store.user_by_id(engines.pool, step.user_id) if step is not None else None
    if (
        step is None
        or user is None
        or not user.is_active
        or not user.mfa_enabled
        or await store.session_exists(engines.pool, step.session_id)
    ):
        raise Unauthenticated("The sign-in step expired or is invalid; sign in again.")
    await otp.send_sign_in_code(engines, user.id, body.channel)


async def verify_login(
    engines: Engines, body: VerifyMfaRequest, client: ClientInfo
) -> TokenResponse:
    """Second sign-in step: the mfa_token from /login plus a TOTP, a recovery code or a code
    sent by email/SMS. The mfa_token opens one session only: a second exchange is a 401."""
    step = decode_mfa_token(engines.settings, body.mfa_token)
    if step is None:
        raise Unauthenticated(MFA_STEP_EXPIRED)
    user_id = step.user_id
    device = throttle.known_device(engines.settings, client.device_cookie, user_id)
    attempt = throttle.Attempt("mfa", str(user_id), client.ip_address or "unknown", device)
    await throttle.before_attempt(engines, attempt)
    tokens: TokenResponse | None = None
    async with engines.pool.acquire() as con, con.transaction():
        # The lock serialises the user's second steps: a token is checked and spent at once
        # (and the session's primary key refuses a second one all the same).
        record = await store.mfa_secret_for_update(con, user_id)
        spent = await store.session_exists(con, step.session_id)
        accepted = (
            not spent
            and record is not None
            and record.confirmed
            and (
                await _accept_code(engines, con, user_id, record, body.code)
                or await otp.accept_sign_in_code(
                    con, user_id, _normalise(body.code), engines.settings.mfa_otp_max_attempts
                )
            )
        )
        user = await store.user_by_id(con, user_id) if accepted else None
        if user is not None and user.is_active and user.mfa_enabled:
            tokens = await sessions.start_session(con, engines, user, client, step.session_id)
    if spent:
        raise Unauthenticated(MFA_STEP_EXPIRED)
    if not accepted:
        await throttle.failed(engines, attempt)
        raise InvalidMfaCode(WRONG_CODE)
    if tokens is None:
        raise Unauthenticated(MFA_STEP_EXPIRED)
    return tokens


async def disable(engines: Engines, principal: Principal, code: str) -> None:
    """Turn MFA off; a current code (or recovery code) proves the second factor is at hand."""
    user_id = principal.user_id
    await _limit(engines, user_id)
    async with engines.pool.acquire() as con, con.transaction():
        record = await store.mfa_secret_for_update(con, user_id)
        if record is None or not record.confirmed:
            raise MfaNotEnrolled(MFA_OFF)
        if not await _accept_code(engines, con, user_id, record, code):
            raise InvalidMfaCode(WRONG_CODE)
        await store.disable_mfa(con, user_id, clock.now())
        await record_change(con, resource_id=user_id)
    log.info("mfa disabled", extra={"user_id": str(user_id)})
