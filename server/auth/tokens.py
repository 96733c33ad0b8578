"""Access tokens (short-lived JWTs naming a session) and opaque secrets stored only as hashes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from server import clock
from server.auth.principal import ACCESS_AUDIENCE, JWT_ALGORITHM, Role
from server.settings import Settings


def issue_access_token(
    settings: Settings, user_id: uuid.UUID, role: Role, session_id: uuid.UUID
) -> str:
    now = clock.now()
    claims = {
        "sub": str(user_id),
        "role": role,
        "sid": str(session_id),
        "aud": ACCESS_AUDIENCE,
        "iat": now,
        "exp": now + timedelta(seconds=settings.access_token_ttl_s),
    }
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=JWT_ALGORITHM)


def new_opaque_token() -> str:
    """A random secret for refresh and reset tokens; only its hash is stored."""
    return secrets.token_urlsafe(32)


def successor_token(settings: Settings, refresh_token: str) -> str:
    """The refresh token that replaces `refresh_token`: derived (HMAC under the server secret),
    so a second presentation within the grace window gets the same one back without any token
    being kept at rest, and without the secret nobody can compute it."""
    mac = hmac.new(
        settings.jwt_secret.get_secret_value().encode(),
        b"markini:refresh-successor:" + refresh_token.encode(),
        hashlib.sha256,
    )
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


def hash_token(token: str) -> str:
    # Tokens are 256-bit random: a fast hash is enough (no dictionary to attack, unlike passwords).
    return hashlib.sha256(token.encode()).hexdigest()


# The second step of an MFA sign-in: proves the password was right, grants nothing else.
MFA_AUDIENCE = "markini:mfa"
MFA_TOKEN_TTL_S = 300


def issue_mfa_token(settings: Settings, user_id: uuid.UUID) -> str:
    now = clock.now()
    claims = {
        "sub": str(user_id),
        "aud": MFA_AUDIENCE,
        "iat": now,
        "exp": now + timedelta(seconds=MFA_TOKEN_TTL_S),
        "jti": secrets.token_hex(16),
    }
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=JWT_ALGORITHM)


@dataclass(frozen=True)
class MfaStep:
    """A valid mfa_token: who passed the password step, and the one session it may open."""

    user_id: uuid.UUID
    # Derived from the token's jti under the server secret: the session's primary key makes the
    # token single use (a second exchange finds that id taken), with no table of spent tokens.
    session_id: uuid.UUID


def decode_mfa_token(settings: Settings, token: str) -> MfaStep | None:
    """The password step `token` proves, or None if the token is invalid or expired."""
    secret = settings.jwt_secret.get_secret_value()
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            audience=MFA_AUDIENCE,
            options={"require": ["exp", "sub", "jti"]},
        )
        user_id = uuid.UUID(claims["sub"])
    except (jwt.PyJWTError, ValueError, KeyError):
        return None
    mac = hmac.new(secret.encode(), f"markini:mfa-session:{claims['jti']}".encode(), hashlib.sha256)
    return MfaStep(user_id, uuid.UUID(bytes=mac.digest()[:16], version=4))


def access_token_expiry(settings: Settings, token: str) -> datetime:
    """The `exp` of an access token already verified by `principal.authenticate`."""
    claims = jwt.decode(
        token,
        settings.jwt_secret.get_secret_value(),
        algorithms=[JWT_ALGORITHM],
        audience=ACCESS_AUDIENCE,
    )
    return datetime.fromtimestamp(claims["exp"], UTC)
