"""Payloads of the events the auth domain emits."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict

from bus.events import (
    USER_REACTIVATED,
    USER_REGISTERED,
    USER_ROLE_CHANGED,
    USER_SUSPENDED,
    register_payload,
)
from server.auth.principal import Role


class UserRegistered(BaseModel):
    """A new account; no email or name here, consumers that need them ask the owning domain."""

    model_config = ConfigDict(extra="forbid")

    user_id: uuid.UUID
    role: Role


register_payload(USER_REGISTERED, UserRegistered)


class UserStatusChanged(BaseModel):
    """An admin suspended or reactivated an account (`user.suspended`, `user.reactivated`)."""

    model_config = ConfigDict(extra="forbid")

    user_id: uuid.UUID
    reason: str | None = None


class UserRoleChanged(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: uuid.UUID
    old_role: Role
    new_role: Role


register_payload(USER_SUSPENDED, UserStatusChanged)
register_payload(USER_REACTIVATED, UserStatusChanged)
register_payload(USER_ROLE_CHANGED, UserRoleChanged)


def user_subject(user_id: uuid.UUID) -> str:
    return f"user:{user_id}"
