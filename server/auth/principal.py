"""Who is calling: access-token verification and the role / object checks every route uses.

Access tokens are short-lived JWTs naming a server-side session; the session row is checked on
every request so logout and revocation take effect at once. The token says who (`sub`) and which
session (`sid`); the session must belong to `sub`, and the role and active state are read from the
account, never from the token: a token forged or kept past a role change grants nothing extra.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any, Literal, TypeVar, cast

import asyncpg
import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from server import clock
from server.auth.errors import OWN_RECORDS, SESSION_ENDED, TOKEN_INVALID
from server.deps import get_engines
from server.engines import Engines
from server.errors import (
    ROLE_NOT_ALLOWED,
    SIGN_IN,
    Forbidden,
    ServiceUnavailable,
    Unauthenticated,
)
from server.settings import Settings
from storage.auth import SessionCheck, live_session_role, live_session_roles
from storage.group import Grouped

Role = Literal["patient", "doctor", "admin"]
ROLES: tuple[Role, ...] = ("patient", "doctor", "admin")
JWT_ALGORITHM = "HS256"
ACCESS_AUDIENCE = "markini:access"

log = logging.getLogger(__name__)

_bearer = HTTPBearer(auto_error=False, description="Access token from /api/v1/auth/login")


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID
    role: Role
    session_id: uuid.UUID

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def decode_access_token(settings: Settings, token: str) -> Principal:
    """Check signature, expiry and audience; does not check the session (see `authenticate`)."""
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[JWT_ALGORITHM],
            audience=ACCESS_AUDIENCE,
            options={"require": ["exp", "sub", "sid"]},
        )
        # The role claim is informational (clients show it); `authenticate` reads the account's.
        role = claims.get("role")
        if role not in ROLES:
            raise ValueError("unknown role")
        return Principal(uuid.UUID(claims["sub"]), cast(Role, role), uuid.UUID(claims["sid"]))
    except (jwt.PyJWTError, ValueError, KeyError) as exc:
        raise Unauthenticated(TOKEN_INVALID) from exc


async def authenticate(request: Request, token: str) -> Principal:
    """Verify the token and that its session is still live (not logged out or revoked)."""
    return await authenticate_token(get_engines(request), token)


async def authenticate_token(engines: Engines, token: str) -> Principal:
    """`authenticate` without a request (Socket.IO connects use it too).

    One query per request, uncached, so a revocation or a role change applies at once.
    """
    claimed = decode_access_token(engines.settings, token)
    role = await live_session_role(engines.pool, claimed.session_id, claimed.user_id, clock.now())
    if role not in ROLES:
        raise Unauthenticated(SESSION_ENDED)
    return Principal(claimed.user_id, role, claimed.session_id)


@dataclass(frozen=True)
class Claim:
    """A verified access token whose session is not checked yet: a route whose first statement
    can check it too (storage.auth.live_session_role_sql) saves the round trip of `authenticate`.
    Whoever holds a Claim calls `confirm` with the role that statement found before acting (or
    `check`, which runs authenticate's statement); the request's audit entry names the caller
    only once confirmed."""

    claimed: Principal  # as the token says: the role is the token's, not yet the account's
    state: Any  # the request's state (server.audit reads `principal` there)

    def confirm(self, role: str | None) -> Principal:
        """The caller, with the account's `role` (None: the session ended, 401)."""
        if role not in ROLES:
            raise Unauthenticated(SESSION_ENDED)
        principal = Principal(self.claimed.user_id, role, self.claimed.session_id)
        self.state.principal = principal
        return principal

    async def check(self, engines: Engines) -> Principal:
        """`authenticate`'s check, for a path that has no statement to fold it into; the
        checks that come at once share one statement (storage.group)."""
        return self.confirm(await grouped_check(_session_checks, engines, self.claimed))


Checked = TypeVar("Checked")


async def grouped_check(
    checks: Grouped[SessionCheck, Checked], engines: Engines, claimed: Principal
) -> Checked:
    """`claimed`'s answer from `checks`, a grouped statement that checks sessions (with
    storage.auth.live_session_role_sql) as of the app clock; 503 when its group failed."""
    check = (claimed.session_id, claimed.user_id, clock.now())
    try:
        return await checks(engines.pool, check)
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        # The group's statement failed: each of its requests is told to retry (a 503).
        log.exception("session check failed")
        raise ServiceUnavailable(CHECK_DOWN, retry_after=CHECK_RETRY_S) from exc


_session_checks = Grouped(live_session_roles)
CHECK_DOWN = "The session could not be checked; try again shortly."
CHECK_RETRY_S = 2


async def claim(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Claim:
    """The caller's token, verified but for its session (401 without a token or a bad one)."""
    if credentials is None:
        raise Unauthenticated(SIGN_IN)
    engines = get_engines(request)
    found = Claim(decode_access_token(engines.settings, credentials.credentials), request.state)
    # A body the route refuses (422) never reaches the statement that checks the session: the
    # refusal checks it first (server.problems), so an ended session is a 401 there as on every
    # route, and a live one's refusal is audited with its caller.
    request.state.unchecked_claim = partial(found.check, engines)
    return found


async def optional_principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Principal | None:
    if credentials is None:
        return None
    principal = await authenticate(request, credentials.credentials)
    request.state.principal = principal  # the audit middleware reads it
    return principal


async def current_principal(principal: Principal | None = Depends(optional_principal)) -> Principal:
    if principal is None:
        raise Unauthenticated(SIGN_IN)
    return principal


# Route parameters: `principal: CurrentPrincipal` (401 without one), `OptionalPrincipal`.
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]
# `claim: SessionClaim`: a route that checks the session in its own first statement (Claim).
SessionClaim = Annotated[Claim, Depends(claim)]


def require_role(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """Dependency: the caller must hold one of `roles` (admins are not implied)."""

    async def check(principal: Principal = Depends(current_principal)) -> Principal:
        if principal.role not in roles:
            raise Forbidden(ROLE_NOT_ALLOWED)
        return principal

    return check


def ensure_self_or_admin(principal: Principal, owner_user_id: uuid.UUID) -> None:
    """Object-level check for resources owned by one user."""
    if principal.user_id != owner_user_id and not principal.is_admin:
        raise Forbidden(OWN_RECORDS)
