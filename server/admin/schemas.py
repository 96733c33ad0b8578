"""Admin API shapes: user search, status and role changes, verification queue, chain report,
system health, step-up."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from server.auth.principal import Role

MAX_PAGE = 100


class UserQuery(BaseModel):
    """Filters of GET /api/v1/admin/users; unknown query parameters are refused (422)."""

    model_config = ConfigDict(extra="forbid")

    q: str | None = Field(
        None, min_length=1, max_length=200, description="Part of the email or of the name"
    )
    role: Role | None = None
    active: bool | None = Field(None, description="false: suspended accounts only")
    limit: int = Field(50, ge=1, le=MAX_PAGE)
    cursor: str | None = Field(
        None, max_length=100, description="Opaque: the `next_cursor` of the previous page"
    )


class AdminUser(BaseModel):
    id: uuid.UUID
    email: str
    role: Role
    name: str | None = Field(description="The patient's or doctor's name, when a profile exists")
    is_active: bool = Field(description="false while suspended")
    is_verified: bool
    created_at: datetime


class UsersPage(BaseModel):
    items: list[AdminUser] = Field(description="Newest accounts first")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at end")


class SuspendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(None, max_length=500, description="Kept in the event and audit")


class SuspendResult(BaseModel):
    user: AdminUser
    sessions_revoked: int = Field(description="Sessions revoked (every device signed out)")
    sockets_closed: int = Field(description="Live sockets of those sessions closed on this node")


class RoleChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role


class QueueQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(50, ge=1, le=MAX_PAGE)
    cursor: str | None = Field(None, max_length=100)


class PendingDoctor(BaseModel):
    id: uuid.UUID = Field(description="Doctor id: POST /api/v1/admin/doctors/{id}/verify|reject")
    user_id: uuid.UUID
    email: str
    first_name: str
    last_name: str
    license_number: str
    city: str
    specializations: list[str]
    created_at: datetime = Field(description="When the profile asked for verification")


class VerificationQueue(BaseModel):
    items: list[PendingDoctor] = Field(description="Oldest request first")
    next_cursor: str | None


class ChainVerification(BaseModel):
    """The outcome of `markini audit verify`, computed by the same code."""

    ok: bool
    checked: int = Field(description="Sealed entries whose link and hash were checked")
    head_seq: int
    broken_seq: int | None
    broken_id: uuid.UUID | None
    reason: str | None
    unsealed: int = Field(description="Entries not chained yet (recent ones included)")
    summary: str = Field(description="The CLI's one-line verdict")


class EngineState(BaseModel):
    name: str = Field(examples=["postgresql", "nats", "redis"])
    ok: bool
    detail: str


class ConsumerLag(BaseModel):
    name: str = Field(description="JetStream durable consumer")
    pending: int = Field(description="Events in the stream not yet delivered to it")
    ack_pending: int = Field(description="Delivered, not acknowledged yet")


class SystemHealth(BaseModel):
    checked_at: datetime
    engines: list[EngineState]
    outbox_pending: int = Field(description="Events written, not yet published to NATS")
    outbox_oldest_age_s: float = Field(description="Age of the oldest unpublished event")
    consumers: list[ConsumerLag]
    sockets: dict[str, int] = Field(description="Sockets connected to this node per namespace")
    audit_unsealed: int = Field(description="Audit entries waiting for the sealer")


class StepUpRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=1, max_length=1024)


class StepUpGranted(BaseModel):
    valid_until: AwareDatetime = Field(description="Health-data actions allowed until then")
