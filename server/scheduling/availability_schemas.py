"""HTTP shapes of a doctor's availability: weekly rules, date exceptions, reasons, settings."""

from __future__ import annotations

import uuid
from datetime import date, time
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, field_validator

from server.errors import FieldCode
from server.instants import Day, Instant
from server.readonly import ReadOnly
from server.scheduling.model import (
    DEFAULT_BUFFER_MINUTES,
    DEFAULT_MAX_HORIZON_DAYS,
    DEFAULT_MIN_NOTICE_MINUTES,
    CancelReasonRequired,
    ExceptionKind,
    VisitType,
)
from server.textguard import Printable

# Slot and visit lengths: whole multiples of five minutes, up to eight hours.
Minutes = Annotated[int, Field(ge=5, le=480, multiple_of=5)]


def _midnight(value: object) -> object:
    """ "24:00" (the end of the day, as people write it) is stored and returned as 00:00."""
    if isinstance(value, str) and value.strip() in ("24:00", "24:00:00"):
        return time(0)
    return value


WINDOW_TIMES = (
    "Local wall-clock times in the doctor's zone. An `end` at or before `start` crosses "
    "midnight: the window ends on the next day and belongs to the day it starts on "
    "(22:30-02:00 on Monday runs into Tuesday). `end` 24:00 (returned as 00:00:00) is midnight "
    "at the end of the day. Windows of one visit type that touch (Monday 22:30-24:00 and Tuesday "
    "00:00-02:00) are one opening: a visit may start in one and end in the next. Around DST "
    "changes a local time that does not exist means the first instant after the gap, and one "
    "that exists twice means its first occurrence (server/scheduling/grid.py)."
)
StartTime = Annotated[time, Field(description="Local time in the doctor's zone, e.g. 09:00.")]
EndTime = Annotated[
    time,
    BeforeValidator(_midnight),
    Field(description="Local time; at or before `start` = on the next day; 24:00 = midnight."),
]


TIME_WITH_OFFSET = FieldCode("time_with_offset", "give a local time without offset, e.g. 09:00")
TIME_NOT_WHOLE_MINUTE = FieldCode("time_not_whole_minute", "times are whole minutes")


def _wall_clock(value: time | None) -> time | None:
    """Local times are wall-clock minutes in the doctor's zone: no offset, no seconds."""
    if value is None:
        return None
    if value.tzinfo is not None:
        raise TIME_WITH_OFFSET.error()
    if value.second or value.microsecond:
        raise TIME_NOT_WHOLE_MINUTE.error()
    return value


class WeeklyRuleIn(BaseModel):
    __doc__ = f"Opening hours every week. {WINDOW_TIMES}"
    model_config = ConfigDict(extra="forbid")

    id: ReadOnly
    day_of_week: int = Field(
        ge=1, le=7, description="ISO 8601: 1 = Monday ... 7 = Sunday; the day the window starts."
    )
    start: StartTime
    end: EndTime
    slot_minutes: Minutes
    visit_type: VisitType
    location: Annotated[str, Field(max_length=200), Printable] = ""

    _times = field_validator("start", "end")(_wall_clock)


class DateExceptionIn(BaseModel):
    __doc__ = f"Time off, or extra opening hours, on a range of dates. {WINDOW_TIMES}"
    model_config = ConfigDict(extra="forbid")

    id: ReadOnly
    kind: ExceptionKind
    start_date: Day
    end_date: Day | None = Field(None, description="Inclusive; defaults to start_date.")
    start: time | None = Field(
        None, description="With `end`: only this window of each day (it may cross midnight)."
    )
    end: Annotated[time | None, BeforeValidator(_midnight)] = Field(
        None, description="At or before `start` = on the next day; 24:00 = midnight."
    )
    slot_minutes: Minutes | None = Field(None, description="Extra hours only.")
    visit_type: VisitType | None = None
    location: Annotated[str, Field(max_length=200), Printable] = ""
    note: Annotated[str, Field(max_length=500), Printable] = ""

    _times = field_validator("start", "end")(_wall_clock)


class VisitReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID | None = Field(None, description="Keep an existing reason's id to update it.")
    name: Annotated[str, Field(min_length=1, max_length=120), Printable]
    duration_minutes: Minutes
    visit_types: list[VisitType] = Field(min_length=1, max_length=2)
    fee_override: StrictInt | None = Field(
        None, ge=0, le=10_000_000, description='Minor units (a JSON integer: "5000" is a 422).'
    )
    new_patients_allowed: bool = True
    refund_cutoff_hours: StrictInt = Field(
        48, ge=0, le=720, description="Cancelling later than this before the visit is late."
    )
    late_refund_percent: StrictInt = Field(
        50, ge=0, le=100, description="Share of a paid fee refunded to a late cancellation."
    )
    cancel_reason_required: CancelReasonRequired = Field(
        "never", description="When a patient must say why they cancel: never, late, always."
    )
    pay_at_visit: bool = Field(
        False,
        description="Paid at the visit even with online payment on (unless the practice's "
        "no-show threshold asks this patient to pay first).",
    )


class SchedulingSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_notice_minutes: int = Field(DEFAULT_MIN_NOTICE_MINUTES, ge=0, le=43200)
    max_horizon_days: int = Field(DEFAULT_MAX_HORIZON_DAYS, ge=1, le=730)
    buffer_minutes: int = Field(DEFAULT_BUFFER_MINUTES, ge=0, le=240, multiple_of=5)


class AvailabilityIn(BaseModel):
    """The whole availability: PUT replaces every part of it at once."""

    model_config = ConfigDict(extra="forbid")

    doctor_id: ReadOnly
    time_zone: ReadOnly
    availability_version: ReadOnly
    rules: list[WeeklyRuleIn] = Field(max_length=100)
    exceptions: list[DateExceptionIn] = Field(default_factory=list, max_length=366)
    reasons: list[VisitReasonIn] = Field(default_factory=list, max_length=50)
    settings: SchedulingSettingsIn = Field(default_factory=SchedulingSettingsIn)


_OUT_END = "At or before `start`: on the next day (00:00:00 = midnight). PUT takes it back as is."


class WeeklyRuleOut(BaseModel):
    __doc__ = WeeklyRuleIn.__doc__
    model_config = ConfigDict(from_attributes=True)  # read from server.scheduling.model

    id: uuid.UUID
    day_of_week: int
    start: time
    end: time = Field(description=_OUT_END)
    slot_minutes: int
    visit_type: VisitType
    location: str


class DateExceptionOut(BaseModel):
    __doc__ = DateExceptionIn.__doc__
    model_config = ConfigDict(from_attributes=True)  # read from server.scheduling.model

    id: uuid.UUID
    kind: ExceptionKind
    start_date: date
    end_date: date
    start: time | None
    end: time | None = Field(description=_OUT_END)
    slot_minutes: int | None
    visit_type: VisitType | None
    location: str
    note: str


class VisitReasonOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # read from server.scheduling.model

    id: uuid.UUID
    name: str
    duration_minutes: int
    visit_types: list[VisitType]
    fee_override: int | None
    new_patients_allowed: bool
    refund_cutoff_hours: int
    late_refund_percent: int
    cancel_reason_required: CancelReasonRequired
    pay_at_visit: bool


class SchedulingSettingsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # read from server.scheduling.model

    min_notice_minutes: int
    max_horizon_days: int
    buffer_minutes: int


class AvailabilityOut(BaseModel):
    doctor_id: uuid.UUID
    time_zone: str
    availability_version: int
    rules: list[WeeklyRuleOut]
    exceptions: list[DateExceptionOut]
    reasons: list[VisitReasonOut]
    settings: SchedulingSettingsOut


class PreviewRequest(BaseModel):
    """A proposed availability and the range to preview (default: the next 14 days)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    availability: AvailabilityIn
    from_: Instant | None = Field(None, alias="from")
    to: Instant | None = None
