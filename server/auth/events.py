"""Payloads of the events the auth domain emits."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict

from bus.events import USER_REGISTERED, register_payload
from server.auth.principal import Role


class UserRegistered(BaseModel):
    """A new account; no email or name here, consumers that need them ask the owning domain."""

    model_config = ConfigDict(extra="forbid")

    user_id: uuid.UUID
    role: Role


register_payload(USER_REGISTERED, UserRegistered)


def user_subject(user_id: uuid.UUID) -> str:
    return f"user:{user_id}"
