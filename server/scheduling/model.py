"""The scheduling domain's plain values: availability as stored and the slots it generates."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

VisitType = Literal["in-person", "teleconsultation"]
VISIT_TYPES: tuple[VisitType, ...] = ("in-person", "teleconsultation")
ExceptionKind = Literal["time-off", "extra-hours"]
CancelReasonRequired = Literal["never", "late", "always"]

# Defaults when a doctor never saved settings: two hours lets the practice prepare, twelve weeks
# is how far ahead most practices publish their agenda.
DEFAULT_MIN_NOTICE_MINUTES = 120
DEFAULT_MAX_HORIZON_DAYS = 84
DEFAULT_BUFFER_MINUTES = 0


@dataclass(frozen=True)
class WeeklyRule:
    day_of_week: int  # ISO 8601: 1 = Monday ... 7 = Sunday
    start: time
    end: time
    slot_minutes: int
    visit_type: VisitType
    location: str = ""
    id: uuid.UUID | None = None


@dataclass(frozen=True)
class DateException:
    kind: ExceptionKind
    start_date: date
    end_date: date
    start: time | None = None  # None (with end None) = whole days
    end: time | None = None
    slot_minutes: int | None = None  # extra hours only
    visit_type: VisitType | None = None
    location: str = ""
    note: str = ""
    id: uuid.UUID | None = None

    def covers(self, day: date) -> bool:
        return self.start_date <= day <= self.end_date


@dataclass(frozen=True)
class VisitReason:
    id: uuid.UUID
    name: str
    duration_minutes: int
    visit_types: tuple[VisitType, ...]
    fee_override: int | None = None
    new_patients_allowed: bool = True
    # Cancellation policy (issue #22; the payments domain's defaults, migrations 0016, 0025).
    refund_cutoff_hours: int = 48
    late_refund_percent: int = 50
    cancel_reason_required: CancelReasonRequired = "never"
    pay_at_visit: bool = False


@dataclass(frozen=True)
class DoctorSettings:
    min_notice_minutes: int = DEFAULT_MIN_NOTICE_MINUTES
    max_horizon_days: int = DEFAULT_MAX_HORIZON_DAYS
    buffer_minutes: int = DEFAULT_BUFFER_MINUTES

    @property
    def notice(self) -> timedelta:
        return timedelta(minutes=self.min_notice_minutes)

    @property
    def horizon(self) -> timedelta:
        return timedelta(days=self.max_horizon_days)

    @property
    def buffer(self) -> timedelta:
        return timedelta(minutes=self.buffer_minutes)


@dataclass(frozen=True)
class Availability:
    """Everything slot generation needs for one doctor."""

    doctor_id: uuid.UUID
    zone: ZoneInfo
    rules: tuple[WeeklyRule, ...] = ()
    exceptions: tuple[DateException, ...] = ()
    reasons: tuple[VisitReason, ...] = ()
    settings: DoctorSettings = field(default_factory=DoctorSettings)
    # The stored content's rules_stamp (storage.scheduling.availability); None for a proposal.
    stamp: uuid.UUID | None = field(default=None, compare=False)

    def reason(self, reason_id: uuid.UUID) -> VisitReason | None:
        return next((r for r in self.reasons if r.id == reason_id), None)


@dataclass(frozen=True, order=True, slots=True)
class Slot:
    """A bookable interval; `start` and `end` are UTC instants (rendered in the doctor's zone)."""

    start: datetime
    end: datetime
    visit_type: VisitType
    location: str = field(default="", compare=False)
