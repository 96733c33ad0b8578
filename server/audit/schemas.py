"""Audit API shapes: the admin listing's filters and page, one log entry, the chain report."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from server.instants import Instant

MAX_PAGE = 200


class AuditQuery(BaseModel):
    """Filters of GET /api/v1/admin/audit; unknown query parameters are refused (422)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    user_id: uuid.UUID | None = Field(None, description="Who acted")
    resource_type: str | None = Field(None, max_length=100, examples=["appointment"])
    resource_id: str | None = Field(None, max_length=200)
    action: str | None = Field(
        None, max_length=300, examples=["POST /api/v1/appointments", "medical_history.read"]
    )
    occurred_from: Instant | None = Field(
        None, alias="from", description="Inclusive lower bound, ISO 8601 with offset"
    )
    occurred_to: Instant | None = Field(
        None, alias="to", description="Exclusive upper bound, ISO 8601 with offset"
    )
    limit: int = Field(50, ge=1, le=MAX_PAGE)
    cursor: str | None = Field(
        None,
        pattern=r"^[1-9][0-9]{0,17}$",
        description="Opaque: the `next_cursor` of the previous page (keyset pagination)",
    )


class AuditEntry(BaseModel):
    append_id: int = Field(description="Order of appending (ids may commit out of order)")
    seq: int | None = Field(
        description="Position in the hash chain: 1, 2, 3... without gaps; null until sealed "
        "(about a second after the entry's transaction commits)"
    )
    id: uuid.UUID
    occurred_at: datetime
    user_id: uuid.UUID | None
    role: str | None
    action: str
    resource_type: str | None
    resource_id: str | None
    ip_address: str | None
    user_agent: str | None
    request_id: str | None
    request_payload: Any = Field(description='Request body with secrets and health data as "***"')
    response_status: int | None
    prev_hash: str | None = Field(description="The previous entry's hash; null until sealed")
    hash: str | None = Field(
        description="hex sha256(prev_hash || canonical JSON of the entry); null until sealed"
    )
    sealed_at: datetime | None = Field(description="When the sealer chained it")


class AuditPage(BaseModel):
    items: list[AuditEntry] = Field(description="Newest first")
    next_cursor: str | None = Field(description="Pass as `cursor` for older entries; null at end")


@dataclass(frozen=True)
class ChainReport:
    """Outcome of walking the hash chain from the first row to the chain head, then of looking
    for rows left unsealed too long (`unsealed`: rows not chained yet, recent ones included)."""

    ok: bool
    checked: int
    head_seq: int
    broken_seq: int | None = None
    broken_id: uuid.UUID | None = None
    reason: str | None = None
    unsealed: int = 0

    def describe(self) -> str:
        if self.ok:
            waiting = f"; {self.unsealed} recent entries not sealed yet" if self.unsealed else ""
            return (
                f"OK: {self.checked} audit entries, chain intact up to seq {self.head_seq}{waiting}"
            )
        if self.broken_seq is None and self.broken_id is not None:
            return f"UNSEALED entry (id {self.broken_id}): {self.reason}"
        where = f"seq {self.broken_seq}" if self.broken_seq is not None else "chain head"
        if self.broken_id is not None:
            where += f" (id {self.broken_id})"
        return f"BROKEN at {where}: {self.reason}"
