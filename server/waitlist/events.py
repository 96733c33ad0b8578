"""waitlist.offered: a waiting patient was offered a held slot (docs/realtime.md)."""

from __future__ import annotations

import uuid
from datetime import datetime

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


register_payload(events.WAITLIST_OFFERED, WaitlistOffered)
