"""HTTP shapes of slots and appointments (SlotsPage and Parties are cross-domain contracts)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from server.errors import FieldCode
from server.instants import Instant
from server.scheduling.model import VisitType
from server.scheduling.state_machine import Status
from server.textguard import Printable

NOTHING_TO_CHANGE = FieldCode("nothing_to_change", "give notes or reason_id")
REASON_MAX_LENGTH = 500  # a cancellation's reason, by the API or by SMS


class SlotOut(BaseModel):
    start: datetime
    end: datetime
    visit_type: VisitType


class SlotsPage(BaseModel):
    """Free slots of one doctor in [from, to); times carry the doctor's UTC offset."""

    model_config = ConfigDict(populate_by_name=True)

    doctor_id: uuid.UUID
    time_zone: str
    from_: datetime = Field(alias="from")
    to: datetime
    availability_version: int = Field(
        description="Apply live slot deltas whose availability_version is greater than this."
    )
    slots: list[SlotOut]
    patient_cutoff_hours: float | None = Field(
        default=None,
        description="GET /appointments/slots/available: patients may cancel or move an "
        "appointment online until this many hours before it (a slot closer than that cannot be "
        "changed once booked).",
    )


class Parties(BaseModel):
    """Who takes part in an appointment (teleconsultation and notifications use it)."""

    model_config = ConfigDict(frozen=True)

    appointment_id: uuid.UUID
    # Who acts for the patient (patients.acting_users, migration 0035): their own login and
    # every active proxy, oldest first; empty for an erased patient nobody acts for.
    acting_user_ids: tuple[uuid.UUID, ...]
    doctor_user_id: uuid.UUID
    doctor_id: uuid.UUID
    patient_id: uuid.UUID
    start: datetime
    end: datetime
    visit_type: VisitType
    status: Status


class BookingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    doctor_id: uuid.UUID
    start: Instant = Field(description="A free slot's start, with its UTC offset.")
    visit_type: VisitType
    reason_id: uuid.UUID | None = None
    notes: Annotated[str, Field(max_length=2000), Printable] = Field(
        "", description="For the doctor; encrypted at rest."
    )
    patient_id: uuid.UUID | None = Field(
        None,
        description="Admins book for this patient; patients book for themselves or for a "
        "relative they manage (GET /api/v1/me/relatives).",
    )


class RescheduleRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: Instant
    visit_type: VisitType | None = Field(None, description="Defaults to the current visit type.")
    reason: Annotated[str, Field(max_length=500), Printable] | None = Field(
        None, description="Why it moves (told the other)."
    )


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(max_length=REASON_MAX_LENGTH), Printable] | None = None


class AppointmentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notes: Annotated[str, Field(max_length=2000), Printable] | None = None
    reason_id: uuid.UUID | None = Field(
        None, description="Another visit reason of the same duration and visit type."
    )

    @model_validator(mode="after")
    def _something_to_change(self) -> AppointmentUpdate:
        if self.notes is None and self.reason_id is None:
            raise NOTHING_TO_CHANGE.error()
        return self


class AgendaPatient(BaseModel):
    """What a doctor's agenda shows of an appointment's patient (read with the appointment)."""

    first_name: str
    last_name: str
    age: int | None = Field(
        description="Whole years today in the doctor's zone; null when unknown, or when the "
        "doctor has no booked appointment with this patient (only held or cancelled ones)."
    )
    phone: str | None = Field(description="Null as for `age`, or when the patient gave none.")
    first_visit: bool = Field(
        description="No completed appointment with this doctor before this one."
    )
    erased: bool = Field(description="The patient's data was erased (GDPR): the name is a stub.")


class BookedBy(BaseModel):
    """A proxy who booked for a relative (issue #24): the appointment's patient is the relative."""

    id: uuid.UUID = Field(description="The proxy's user id.")
    name: str
    relationship: str = Field(
        description="What the patient is to the proxy: a FHIR v3-RoleCode (CHILD, MTH, FTH, PRN, "
        "SPS, GRPRN...)."
    )


class AppointmentOut(BaseModel):
    id: uuid.UUID
    doctor_id: uuid.UUID
    patient_id: uuid.UUID
    start: datetime
    end: datetime
    time_zone: str
    visit_type: VisitType
    status: Status
    reason_id: uuid.UUID | None
    reason_name: str | None
    location: str
    notes: str
    fee: int = Field(description="Minor units of `currency`.")
    currency: str
    hold_expires_at: datetime | None
    cancelled_by: str | None
    cancellation_reason: str | None
    created_at: datetime
    updated_at: datetime
    allowed_transitions: list[str] = Field(
        description="What the caller may do now (role, status, clock and the patients' cut-off "
        "considered): any of confirm, reschedule, cancel, complete, no_show."
    )
    refused_transitions: dict[str, Literal["not_started", "cutoff"]] = Field(
        default_factory=dict,
        description="Actions the status allows this caller but the clock does not, with why: "
        "`not_started` (complete, no_show before the start), `cutoff` (a patient's cancel or "
        "reschedule past `patient_cutoff_at`).",
    )
    patient_cutoff_at: datetime | None = Field(
        default=None,
        description="To the patient of an active appointment: until when they may cancel or "
        "move it online (start minus the server's patient_cancel_cutoff_h).",
    )
    join_opens_at: datetime | None = Field(
        default=None,
        description="Teleconsultations: when its parties may first join the video room (start "
        "minus the server's consult_join_early_s); null for in-person visits.",
    )
    join_closes_at: datetime | None = Field(
        default=None,
        description="Teleconsultations: when joining closes (end plus the server's "
        "consult_grace_s); null for in-person visits.",
    )
    patient: AgendaPatient | None = Field(
        default=None,
        description="In a doctor's agenda (GET /doctor/{doctor_id}) only: what the doctor may "
        "see of the patient; null elsewhere.",
    )
    booked_by: BookedBy | None = Field(
        default=None,
        description="Who booked it for the patient when a proxy (a parent, a child...) did; "
        "null when the patient booked themself (or an admin did).",
    )


class AppointmentPage(BaseModel):
    items: list[AppointmentOut]
    total: int
    limit: int
    offset: int
