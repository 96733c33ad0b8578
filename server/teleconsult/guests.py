"""Guest tokens: what a used invitation link hands its invitee, to enter one call as its third
participant (docs/realtime.md, "Third participant").

Own audience, so it stands in for neither an access token nor a join token. Its subject is the
invite's id: an invitee may have no account. It expires when the session's joining window
closes; the socket (`/consult`, auth `{guest_token}`) also checks the invite's state each time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import jwt

from server import clock
from server.auth.principal import JWT_ALGORITHM, Principal
from server.errors import Unauthenticated
from server.settings import Settings
from server.teleconsult.errors import JOIN_TOKEN_INVALID

GUEST_AUDIENCE = "markini:consult-guest"


@dataclass(frozen=True)
class GuestClaims:
    invite_id: uuid.UUID
    session_id: uuid.UUID
    appointment_id: uuid.UUID
    room_id: str
    expires_at: datetime

    def principal(self) -> Principal:
        """The socket's principal: the invite stands for the person (no account, no role of
        the platform: `patient` here only types it; every rule checks the guest seat)."""
        return Principal(self.invite_id, "patient", self.invite_id)


def issue_guest_token(
    settings: Settings,
    *,
    invite_id: uuid.UUID,
    session_id: uuid.UUID,
    appointment_id: uuid.UUID,
    room_id: str,
    expires_at: datetime,
) -> tuple[str, datetime]:
    claims = {
        "sub": str(invite_id),
        "ses": str(session_id),
        "apt": str(appointment_id),
        "room": room_id,
        "aud": GUEST_AUDIENCE,
        "iat": clock.now(),
        "exp": expires_at,
    }
    token = jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=JWT_ALGORITHM)
    return token, expires_at.replace(microsecond=0)


def decode_guest_token(settings: Settings, token: str) -> GuestClaims:
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[JWT_ALGORITHM],
            audience=GUEST_AUDIENCE,
            options={"require": ["exp", "sub", "ses", "apt", "room"]},
        )
        return GuestClaims(
            invite_id=uuid.UUID(claims["sub"]),
            session_id=uuid.UUID(claims["ses"]),
            appointment_id=uuid.UUID(claims["apt"]),
            room_id=str(claims["room"]),
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        )
    except (jwt.PyJWTError, ValueError, KeyError, TypeError) as exc:
        raise Unauthenticated(JOIN_TOKEN_INVALID) from exc
