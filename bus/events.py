"""Every event type, its NATS subject and the envelope, declared once.

Producers call `bus.outbox.emit` with one of these types; consumers filter on them. Payload models
live beside the domain that produces them (e.g. `server/scheduling/events.py`) and are registered
in PAYLOADS so consumers can validate what they receive.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# Envelope schema version: bump when the envelope (not a payload) changes shape.
ENVELOPE_VERSION = 1

# auth
USER_REGISTERED = "user.registered"
USER_SUSPENDED = "user.suspended"
USER_REACTIVATED = "user.reactivated"
USER_ROLE_CHANGED = "user.role_changed"
# patients
PATIENT_CREATED = "patient.created"
PATIENT_UPDATED = "patient.updated"
PATIENT_DELETED = "patient.deleted"
PATIENT_PROXY_REVOKED = "patient.proxy_revoked"
# doctors
DOCTOR_CREATED = "doctor.created"
DOCTOR_UPDATED = "doctor.updated"
DOCTOR_DELETED = "doctor.deleted"
DOCTOR_VERIFIED = "doctor.verified"
DOCTOR_AVAILABILITY_UPDATED = "doctor.availability.updated"
DOCTOR_REVIEWED = "doctor.reviewed"
# scheduling
APPOINTMENT_CREATED = "appointment.created"
APPOINTMENT_CONFIRMED = "appointment.confirmed"
APPOINTMENT_CANCELLED = "appointment.cancelled"
APPOINTMENT_RESCHEDULED = "appointment.rescheduled"
APPOINTMENT_COMPLETED = "appointment.completed"
APPOINTMENT_NO_SHOW = "appointment.no_show"
APPOINTMENT_UPDATED = "appointment.updated"
SLOT_HELD = "slot.held"
SLOT_BOOKED = "slot.booked"
SLOT_RELEASED = "slot.released"
# teleconsultation
TELECONSULTATION_STARTED = "teleconsultation.started"
TELECONSULTATION_ENDED = "teleconsultation.ended"
# payments
PAYMENT_INITIATED = "payment.initiated"
PAYMENT_COMPLETED = "payment.completed"
PAYMENT_FAILED = "payment.failed"
PAYMENT_REFUNDED = "payment.refunded"
# waitlist
WAITLIST_OFFERED = "waitlist.offered"
QUEUE_UPDATED = "queue.updated"
# later issues: notification.*

ALL_TYPES: frozenset[str] = frozenset(
    value
    for name, value in dict(globals()).items()
    if name.isupper() and isinstance(value, str) and "." in value
)

PAYLOADS: dict[str, type[BaseModel]] = {}


def register_payload(event_type: str, model: type[BaseModel]) -> None:
    if event_type not in ALL_TYPES:
        raise ValueError(f"unknown event type {event_type}")
    PAYLOADS[event_type] = model


class Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    occurred_at: datetime  # the server's clock (server.clock), never a default here
    actor: str | None = None
    subject: str
    data: dict[str, Any]
    version: int = ENVELOPE_VERSION

    def payload(self) -> BaseModel | dict[str, Any]:
        model = PAYLOADS.get(self.type)
        return model.model_validate(self.data) if model else self.data


def nats_subject(prefix: str, event_type: str) -> str:
    return f"{prefix}.{event_type}"
