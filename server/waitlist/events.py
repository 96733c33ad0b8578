"""waitlist.offered: a waiting patient was offered a held slot; queue.updated: the expected
starts of a doctor's day changed (docs/realtime.md)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from bus import events
from bus.events import register_payload


class WaitlistOffered(BaseModel):
    model_config = ConfigDict(extra="forbid")

    offer_id: uuid.UUID
    entry_id: uuid.UUID
    appointment_id: uuid.UUID
    doctor_id: uuid.UUID
    patient_id: uuid.UUID
    patient_user_id: uuid.UUID
    start: datetime
    end: datetime
    visit_type: str
    expires_at: datetime


class QueueUpdated(BaseModel):
    """A delay was declared, or a visit of the day completed, was cancelled or missed:
    `patient_user_ids` are the users with a booked visit that day, to re-read their standing."""

    model_config = ConfigDict(extra="forbid")

    doctor_id: uuid.UUID
    on_day: date
    patient_user_ids: list[uuid.UUID]


register_payload(events.WAITLIST_OFFERED, WaitlistOffered)
register_payload(events.QUEUE_UPDATED, QueueUpdated)
