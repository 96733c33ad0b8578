"""Proxy actions on a relative's appointments (issue #24): each one leaves an audit entry naming
the acting user and the relative, in the transaction of the change (beside record_change's entry
of the request itself)."""

from __future__ import annotations

import uuid

import asyncpg

from server.audit.service import record_access
from server.auth.principal import Principal


async def record_proxy_action(
    con: asyncpg.Connection,
    principal: Principal,
    verb: str,
    relative_id: uuid.UUID,
    appointment_id: uuid.UUID,
) -> None:
    """`verb`: book, reschedule, cancel, update... audited as `relative_appointment.<verb>`."""
    await record_access(
        con,
        principal=principal,
        action=f"relative_appointment.{verb}",
        resource_type="patient",
        resource_id=relative_id,
        payload={"appointment_id": str(appointment_id), "proxy_user_id": str(principal.user_id)},
    )
