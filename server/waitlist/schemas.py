"""Waitlist request and answer bodies."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from server.instants import Instant
from server.scheduling.model import CancelReasonRequired, VisitType

Weekday = Literal[1, 2, 3, 4, 5, 6, 7]


class Near(BaseModel):
    model_config = ConfigDict(extra="forbid")

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    radius_km: float = Field(gt=0, le=500)


class JoinRequest(BaseModel):
    """Wait for an earlier slot with one doctor (`doctor_id`), or with any doctor of a
    `specialty` in a `city` or `near` a point. Times of day and weekdays are the doctor's."""

    model_config = ConfigDict(extra="forbid")

    patient_id: uuid.UUID | None = Field(
        None,
        description="Whom the entry is for: omitted (or your own patient id) for yourself, or "
        "a relative you manage (GET /api/v1/me/relatives). Their offers come to you, and an "
        "accepted offer books for them, booked by you. 404 `no-such-relative` for anyone else.",
    )

    doctor_id: uuid.UUID | None = None
    specialty: str | None = Field(
        None, min_length=1, max_length=80, description="A specialization code (any doctor)."
    )
    # Stripped: a city of spaces matched no doctor yet held the specialty's one entry.
    city: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
        | None
    ) = Field(
        None,
        description="Matches the doctor's city whatever the case, accents and punctuation "
        '(as search does: "Beziers" finds Béziers, "SAINT ETIENNE" Saint-Étienne).',
    )
    near: Near | None = None
    visit_type: VisitType
    reason_id: uuid.UUID | None = None
    earliest: Instant = Field(description="Offered slots start at or after this instant.")
    latest: Instant = Field(description="Offered slots start before this instant.")
    weekdays: list[Weekday] = Field(
        default_factory=list, max_length=7, description="ISO weekdays (Monday 1); empty: any."
    )
    day_from: time | None = Field(None, description="Earliest time of day (doctor's zone).")
    day_until: time | None = Field(None, description="Time of day slots start before.")
    replaces_appointment_id: uuid.UUID | None = Field(
        None,
        description="The patient's upcoming appointment with this doctor to move when an "
        "earlier slot is accepted (it is cancelled in the same transaction).",
    )


class OfferOut(BaseModel):
    id: uuid.UUID
    doctor_id: uuid.UUID = Field(description="The doctor whose slot is offered.")
    appointment_id: uuid.UUID = Field(description="The hold behind the offer.")
    start: datetime
    end: datetime
    expires_at: datetime = Field(description="The slot passes to the next patient after this.")


class EntryOut(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID = Field(
        description="Whom it is for: the caller, or a relative the caller manages."
    )
    doctor_id: uuid.UUID | None = Field(description="Null for a specialty entry.")
    specialty: str | None
    city: str | None
    near: Near | None
    visit_type: VisitType
    reason_id: uuid.UUID | None
    earliest: datetime
    latest: datetime
    weekdays: list[int]
    day_from: time | None
    day_until: time | None
    replaces_appointment_id: uuid.UUID | None
    status: Literal["waiting", "offered"]
    created_at: datetime
    offer: OfferOut | None = Field(description="The open offer, when the entry has one.")


class EntryList(BaseModel):
    items: list[EntryOut]


class WaitingCount(BaseModel):
    doctor_id: uuid.UUID
    waiting: int = Field(description="Patients waiting for an earlier slot with this doctor.")


class DelayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Strict, like money and counts elsewhere: "20" or 20.0 is a 422 `int_type`, never coerced.
    minutes: StrictInt = Field(
        ge=0, le=480, description="How late the doctor runs today; 0 clears."
    )


class DelayOut(BaseModel):
    doctor_id: uuid.UUID
    minutes: int
    on_day: date = Field(description="The doctor's local day the delay is for.")


class QueueOut(BaseModel):
    appointment_id: uuid.UUID
    position: int = Field(description="1: next (or being seen); counts the day's booked visits.")
    declared_minutes: int = Field(description="What the doctor or front desk said today.")
    inferred_minutes: int = Field(description="How far the visit in progress ran past its end.")
    delay_minutes: int = Field(description="The larger of the two: what the estimate adds.")
    start: datetime
    expected_start: datetime


class PatientReliability(BaseModel):
    patient_id: uuid.UUID
    name: str
    late_cancellations: int = Field(description="Cancelled by the patient after the cut-off.")
    no_shows: int


class PracticeReliability(BaseModel):
    doctor_id: uuid.UUID
    late_cancellations: int
    no_shows: int
    patients: list[PatientReliability] = Field(description="Patients with any, most first.")


class PracticeSettings(BaseModel):
    """Counts are strict JSON integers: "10" or 10.0 is a 422 `int_type`, never coerced."""

    model_config = ConfigDict(extra="forbid")

    offer_minutes: StrictInt = Field(
        10, ge=2, le=60, description="How long a waitlist offer is held for the patient."
    )
    prepay_no_show_threshold: StrictInt | None = Field(
        None,
        ge=1,
        le=100,
        description="Patients with at least this many no-shows pay when booking; null: never.",
    )


class PracticeSettingsOut(PracticeSettings):
    doctor_id: uuid.UUID


class CancellationPolicy(BaseModel):
    """A visit reason's cancellation policy (the doctor's defaults without a reason)."""

    doctor_id: uuid.UUID
    reason_id: uuid.UUID | None
    refund_cutoff_hours: int = Field(description="Cancelling later than this is late.")
    late_refund_percent: int = Field(description="Share of the fee refunded when late.")
    reason_required: CancelReasonRequired = Field(
        description="When a patient must say why they cancel."
    )
    online_cancel_cutoff_hours: int = Field(
        description="Patients cannot cancel online later than this before the visit."
    )
    pay_at_visit: bool
    prepay_required: bool = Field(
        description="The caller (a patient) must pay when booking: no-show threshold reached."
    )


class CancellationQuote(BaseModel):
    """What cancelling the appointment now means for its patient."""

    appointment_id: uuid.UUID
    late: bool = Field(description="After the refund cut-off.")
    reason_required: bool
    refund_cutoff_at: datetime
    refund_cutoff_hours: int
    late_refund_percent: int
    paid: int = Field(description="Paid online (minor units); 0 when nothing was paid.")
    refund: int = Field(description="What cancelling now refunds (minor units).")
    currency: str
