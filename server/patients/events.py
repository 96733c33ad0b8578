"""Payloads of the events the patients domain emits (see /work/contracts.md)."""

from __future__ import annotations

import uuid

import asyncpg
from pydantic import BaseModel, ConfigDict

from bus.events import (
    PATIENT_CREATED,
    PATIENT_DELETED,
    PATIENT_PROXY_REVOKED,
    PATIENT_UPDATED,
    register_payload,
)
from bus.outbox import emit
from server import clock


class PatientChanged(BaseModel):
    """Only the id travels: patient data is personal and stays in the patients schema."""

    model_config = ConfigDict(extra="forbid")

    patient_id: uuid.UUID


def subject(patient_id: uuid.UUID) -> str:
    return f"patient:{patient_id}"


async def emit_changed(
    con: asyncpg.Connection, event_type: str, patient_id: uuid.UUID, actor: str | None = None
) -> None:
    """Record, in the caller's transaction, that the patient changed (PatientChanged types)."""
    await emit(
        con,
        event_type,
        subject(patient_id),
        PatientChanged(patient_id=patient_id),
        actor=actor,
        at=clock.now(),
    )


class ProxyRevoked(BaseModel):
    """`patient.proxy_revoked`: `user_id` no longer acts for `patient_id` (their link was
    revoked); every node takes that user's sockets out of the patient's consultation rooms."""

    model_config = ConfigDict(extra="forbid")

    patient_id: uuid.UUID
    user_id: uuid.UUID


async def emit_revoked(
    con: asyncpg.Connection, revoked: list[tuple[uuid.UUID, uuid.UUID]], actor: str
) -> None:
    """Record, in the caller's transaction, one ProxyRevoked per (user id, patient id)."""
    for user_id, patient_id in revoked:
        payload = ProxyRevoked(patient_id=patient_id, user_id=user_id)
        await emit(
            con, PATIENT_PROXY_REVOKED, subject(patient_id), payload, actor=actor, at=clock.now()
        )


for _type in (PATIENT_CREATED, PATIENT_UPDATED, PATIENT_DELETED):
    register_payload(_type, PatientChanged)
register_payload(PATIENT_PROXY_REVOKED, ProxyRevoked)
