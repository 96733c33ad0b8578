"""Waitlist request and answer bodies."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from server.instants import Instant
from server.scheduling.model import VisitType

Weekday = Literal[1, 2, 3, 4, 5, 6, 7]


class JoinRequest(BaseModel):
    """Wait for an earlier slot with one doctor. Times of day and weekdays are the doctor's."""

    model_config = ConfigDict(extra="forbid")

    doctor_id: uuid.UUID
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
        description="Your upcoming appointment with this doctor to move when an earlier slot "
        "is accepted (it is cancelled in the same transaction).",
    )


class OfferOut(BaseModel):
    id: uuid.UUID
    appointment_id: uuid.UUID = Field(description="The hold behind the offer.")
    start: datetime
    end: datetime
    expires_at: datetime = Field(description="The slot passes to the next patient after this.")


class EntryOut(BaseModel):
    id: uuid.UUID
    doctor_id: uuid.UUID
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

    minutes: int = Field(ge=0, le=480, description="How late the doctor runs today; 0 clears.")


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
