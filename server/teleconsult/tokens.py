"""Join tokens: short-lived JWTs that let one user into one call, in one role.

Distinct audience from access tokens, so neither can stand in for the other. A socket presents
it with `call.join`; the socket's own access token must name the same user.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from server import clock
from server.auth.principal import JWT_ALGORITHM
from server.errors import Unauthenticated
from server.settings import Settings
from server.teleconsult.access import CallRole
from server.teleconsult.errors import JOIN_TOKEN_INVALID

JOIN_AUDIENCE = "markini:consult-join"


@dataclass(frozen=True)
class JoinClaims:
    user_id: uuid.UUID
    role: CallRole
    session_id: uuid.UUID
    appointment_id: uuid.UUID
    room_id: str
    expires_at: datetime


def issue_join_token(
    settings: Settings,
    *,
    user_id: uuid.UUID,
    role: CallRole,
    session_id: uuid.UUID,
    appointment_id: uuid.UUID,
    room_id: str,
    now: datetime | None = None,
) -> tuple[str, datetime]:
    issued = now or clock.now()
    expires = issued + timedelta(seconds=settings.consult_join_token_ttl_s)
    claims = {
        "sub": str(user_id),
        "role": role,
        "ses": str(session_id),
        "apt": str(appointment_id),
        "room": room_id,
        "aud": JOIN_AUDIENCE,
        "iat": issued,
        "exp": expires,
    }
    token = jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=JWT_ALGORITHM)
    return token, expires.replace(microsecond=0)


def decode_join_token(settings: Settings, token: str) -> JoinClaims:
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[JWT_ALGORITHM],
            audience=JOIN_AUDIENCE,
            options={"require": ["exp", "sub", "role", "ses", "apt", "room"]},
        )
        role = claims["role"]
        if role not in ("patient", "doctor"):
            raise ValueError(role)
        return JoinClaims(
            user_id=uuid.UUID(claims["sub"]),
            role=role,
            session_id=uuid.UUID(claims["ses"]),
            appointment_id=uuid.UUID(claims["apt"]),
            room_id=str(claims["room"]),
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        )
    except (jwt.PyJWTError, ValueError, KeyError, TypeError) as exc:
        raise Unauthenticated(JOIN_TOKEN_INVALID) from exc
