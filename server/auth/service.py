"""Accounts: registration, sign-in, token checks, the admin account command."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

import asyncpg

from bus.events import USER_REGISTERED
from bus.outbox import emit
from server import clock
from server.audit.service import record_change
from server.auth import sessions, throttle
from server.auth.errors import (
    ACCOUNT_REQUIRED,
    EMAIL_IN_USE,
    INVALID_LOGIN,
    NAME_ACCOUNT,
    NOT_AN_ACCOUNT_OF_ROLE,
    OWN_PROFILE,
    PASSWORD_POLICY,
    PROFILE_ROLE,
    REQUIRED_FOR_PATIENTS,
    EmailTaken,
    InvalidCredentials,
)
from server.auth.events import UserRegistered, user_subject
from server.auth.passwords import hash_password, needs_rehash, password_errors, verify_password
from server.auth.principal import Principal, Role
from server.auth.schemas import (
    LoginRequest,
    MfaChallenge,
    RegisterRequest,
    RegisterResponse,
    TokenResponse,
    TokenValidity,
    UserOut,
    normalise_email,
)
from server.auth.sessions import ClientInfo
from server.auth.tokens import MFA_TOKEN_TTL_S, access_token_expiry, issue_mfa_token
from server.engines import Engines
from server.errors import (
    FIELDS_INVALID,
    INVALID_EMAIL,
    NO_SUCH_ACCOUNT,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthenticated,
)
from server.patients import accounts as patient_accounts
from storage import auth as store

log = logging.getLogger(__name__)


def _registration_errors(body: RegisterRequest) -> list[dict[str, Any]]:
    errors = password_errors(body.password, body.email)
    if body.role == "patient":
        for field in ("first_name", "last_name"):
            if getattr(body, field) is None:
                errors.append(REQUIRED_FOR_PATIENTS.at(field))
    return errors


async def register(engines: Engines, body: RegisterRequest) -> RegisterResponse:
    """Create the account (and a patient's profile) with their events, in one transaction."""
    errors = _registration_errors(body)
    if errors:
        raise InvalidInput(FIELDS_INVALID, errors)
    password_hash = await hash_password(body.password)
    # Patients have no email-verification step yet; doctors wait for an admin's verification.
    is_verified = body.role == "patient"
    patient_id = None
    async with engines.pool.acquire() as con, con.transaction():
        user = await store.insert_user(
            con, body.email, password_hash, body.role, is_verified, clock.now()
        )
        if user is None:
            raise EmailTaken(EMAIL_IN_USE)
        actor = str(user.id)
        await emit(
            con,
            USER_REGISTERED,
            user_subject(user.id),
            UserRegistered(user_id=user.id, role=body.role),
            actor=actor,
            at=clock.now(),
        )
        if body.role == "patient":
            assert body.first_name is not None and body.last_name is not None
            patient_id = await patient_accounts.open_profile(
                con, user.id, body.first_name.strip(), body.last_name.strip()
            )
        await record_change(con, resource_id=user.id)
    log.info("user registered", extra={"user_id": actor, "role": body.role})
    return RegisterResponse(user=sessions.user_out(user), patient_id=patient_id)


async def login(
    engines: Engines, body: LoginRequest, client: ClientInfo
) -> TokenResponse | MfaChallenge:
    """Check the password; open a session, or ask for the second factor first."""
    settings = engines.settings
    user = await store.user_by_email(engines.pool, body.email)
    device = throttle.known_device(settings, client.device_cookie, user.id if user else None)
    attempt = throttle.Attempt("login", body.email, client.ip_address or "unknown", device)
    await throttle.before_attempt(engines, attempt)
    # Unknown emails still pay for one argon2 verification: same answer, similar time.
    matched = await verify_password(user.password_hash if user else None, body.password)
    if user is None or not matched or not user.is_active:
        await throttle.failed(engines, attempt)
        raise InvalidCredentials(INVALID_LOGIN)
    if needs_rehash(user.password_hash):
        rehashed = await hash_password(body.password)
        await store.update_password_hash(engines.pool, user.id, rehashed, clock.now())
    if user.mfa_enabled:
        return MfaChallenge(
            mfa_token=issue_mfa_token(settings, user.id), expires_in=MFA_TOKEN_TTL_S
        )
    return await sessions.open_session(engines, user, client)


async def logout(engines: Engines, principal: Principal) -> None:
    await sessions.end_session(engines, principal.session_id)


async def validate_token(engines: Engines, principal: Principal, token: str) -> TokenValidity:
    """`principal` comes from `authenticate`, which already checked the token and its session."""
    return TokenValidity(
        user_id=principal.user_id,
        role=principal.role,
        expires_at=access_token_expiry(engines.settings, token),
    )


async def me(engines: Engines, principal: Principal) -> UserOut:
    user = await store.user_by_id(engines.pool, principal.user_id)
    if user is None:
        raise Unauthenticated(NO_SUCH_ACCOUNT)
    return sessions.user_out(user)


async def create_admin(engines: Engines, email: str, password: str) -> UserOut:
    """Admins are never self-registered; operators create them with `markini create-admin`."""
    try:
        email = normalise_email(email)
    except ValueError as exc:
        raise InvalidInput(FIELDS_INVALID, [INVALID_EMAIL.at("email", reason=str(exc))]) from exc
    errors = password_errors(password, email)
    if errors:
        raise InvalidInput(PASSWORD_POLICY, errors)
    password_hash = await hash_password(password)
    async with engines.pool.acquire() as con, con.transaction():
        user = await store.insert_user(con, email, password_hash, "admin", True, clock.now())
        if user is None:
            raise EmailTaken(EMAIL_IN_USE)
        await emit(
            con,
            USER_REGISTERED,
            user_subject(user.id),
            UserRegistered(user_id=user.id, role="admin"),
            actor="cli",
            at=clock.now(),
        )
    log.info("admin created", extra={"user_id": str(user.id)})
    return sessions.user_out(user)


async def set_verified(
    con: asyncpg.Connection, user_id: uuid.UUID, verified: bool, now: datetime
) -> None:
    """Mark an account verified (e.g. a doctor, by the doctors domain's verification step).

    Takes the caller's connection so it joins the caller's transaction.
    """
    if not await store.set_user_verified(con, user_id, verified, now):
        raise NotFound(NO_SUCH_ACCOUNT)


async def erase_account(con: asyncpg.Connection, user_id: uuid.UUID) -> None:
    """GDPR erasure of an account, in the caller's transaction: signed out everywhere, for good."""
    now = clock.now()
    await store.erase_user(con, user_id, now)
    await store.revoke_user_sessions(con, user_id, now)


async def profile_owner(
    con: asyncpg.Connection, principal: Principal, requested: uuid.UUID | None, role: Role
) -> uuid.UUID:
    """Whose `role` profile a create request makes: the caller's own, or (admins) the named one."""
    if principal.is_admin:
        if requested is None:
            raise InvalidInput(
                NAME_ACCOUNT, [ACCOUNT_REQUIRED.at("user_id")], params={"role": role}
            )
        account = await store.user_by_id(con, requested)
        if account is None or not account.is_active or account.role != role:
            raise InvalidInput(FIELDS_INVALID, [NOT_AN_ACCOUNT_OF_ROLE.at("user_id", role=role)])
        return requested
    if principal.role != role:
        raise Forbidden(PROFILE_ROLE, params={"role": role})
    if requested not in (None, principal.user_id):
        raise Forbidden(OWN_PROFILE, params={"role": role})
    return principal.user_id
