"""Rules an availability must follow beyond field types, and its conversion to domain values.

Every problem is reported at once as a field error (`rules.2.end`), so the editor can mark them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from server.errors import FieldCode, InvalidInput
from server.scheduling.availability_schemas import AvailabilityIn, DateExceptionIn
from server.scheduling.errors import AVAILABILITY_PROBLEMS
from server.scheduling.model import DateException, DoctorSettings, VisitReason, WeeklyRule

# A single exception spans at most a year: longer absences are better expressed by editing rules.
MAX_EXCEPTION_DAYS = 366


@dataclass(frozen=True)
class CheckedAvailability:
    rules: tuple[WeeklyRule, ...]
    exceptions: tuple[DateException, ...]
    reasons: tuple[VisitReason, ...]
    settings: DoctorSettings


MINUTES_PER_DAY = 24 * 60


def _minute_of_day(at: time) -> int:
    return at.hour * 60 + at.minute


def _minutes(start: time, end: time) -> int:
    """A window's wall-clock length: an end at or before the start is on the next day."""
    return (_minute_of_day(end) - _minute_of_day(start) - 1) % MINUTES_PER_DAY + 1


def _windows_meet(first: tuple[time, time], second: tuple[time, time], days: range) -> bool:
    """Whether a window starting `d` days after another overlaps it, for some `d` in `days`
    (windows last at most a day, so only d in -1..1 can meet)."""
    a, b = _minute_of_day(first[0]), _minute_of_day(second[0])
    a_end, b_end = a + _minutes(*first), b + _minutes(*second)
    return any(
        a < b + d * MINUTES_PER_DAY + (b_end - b) and b + d * MINUTES_PER_DAY < a_end
        for d in (-1, 0, 1)
        if d in days
    )


SHORTER_THAN_SLOT = FieldCode("window_shorter_than_slot", "the window is shorter than one slot")
UNEVEN_SLOTS = FieldCode(
    "slots_uneven", "{slot_minutes}-minute slots do not fill {start}-{end} evenly"
)
OVERLAPS_RULE = FieldCode("overlaps_rule", "overlaps opening hours row {row}")
OVERLAPS_EXCEPTION = FieldCode("overlaps_exception", "overlaps exception row {row}")
END_DATE_BEFORE_START = FieldCode("end_date_before_start", "end_date must not be before start_date")
EXCEPTION_TOO_LONG = FieldCode("exception_too_long", "at most {max_days} days per exception")
START_END_PAIR = FieldCode("start_end_pair", "give both start and end, or neither (whole days)")
TIME_OFF_NO_SLOTS = FieldCode("time_off_no_slots", "time off takes no slot_minutes or visit_type")
EXTRA_HOURS_NEED = FieldCode("required_for_extra_hours", "required for extra hours")
NAME_TAKEN = FieldCode("reason_name_taken", "two reasons have this name")
LISTED_TWICE = FieldCode("listed_twice", "listed twice")
NOT_OWN_REASON = FieldCode("not_own_reason", "not one of this doctor's reasons")


def _window_errors(
    field: str, start: time, end: time, slot_minutes: int
) -> Iterator[dict[str, Any]]:
    length = _minutes(start, end)
    if length < slot_minutes:
        yield SHORTER_THAN_SLOT.at(f"{field}.slot_minutes")
    elif length % slot_minutes:
        yield UNEVEN_SLOTS.at(
            f"{field}.slot_minutes",
            slot_minutes=slot_minutes,
            start=f"{start:%H:%M}",
            end=f"{end:%H:%M}",
        )


def _rule_errors(body: AvailabilityIn) -> Iterator[dict[str, Any]]:
    for i, rule in enumerate(body.rules):
        yield from _window_errors(f"rules.{i}", rule.start, rule.end, rule.slot_minutes)
    for i, rule in enumerate(body.rules):
        for j in range(i):
            other = body.rules[j]
            # Days from `other` to `rule` in the week, Sunday night running into Monday.
            apart = (rule.day_of_week - other.day_of_week) % 7
            days = range(apart - 7, apart - 6) if apart == 6 else range(apart, apart + 1)
            if _windows_meet((other.start, other.end), (rule.start, rule.end), days):
                yield OVERLAPS_RULE.at(f"rules.{i}", row=j + 1)


def _exception_days(exc: DateExceptionIn) -> tuple[date, date]:
    return exc.start_date, exc.end_date or exc.start_date


def _one_exception_errors(i: int, exc: DateExceptionIn) -> Iterator[dict[str, Any]]:
    field = f"exceptions.{i}"
    first, last = _exception_days(exc)
    if last < first:
        yield END_DATE_BEFORE_START.at(f"{field}.end_date")
    elif (last - first).days >= MAX_EXCEPTION_DAYS:
        yield EXCEPTION_TOO_LONG.at(f"{field}.end_date", max_days=MAX_EXCEPTION_DAYS)
    if (exc.start is None) != (exc.end is None):
        yield START_END_PAIR.at(f"{field}.end")
    if exc.kind == "time-off":
        if exc.slot_minutes is not None or exc.visit_type is not None:
            yield TIME_OFF_NO_SLOTS.at(field)
        return
    for name in ("start", "end", "slot_minutes", "visit_type"):
        if getattr(exc, name) is None:
            yield EXTRA_HOURS_NEED.at(f"{field}.{name}")
    if exc.start and exc.end and exc.slot_minutes:
        yield from _window_errors(field, exc.start, exc.end, exc.slot_minutes)


def _exception_errors(body: AvailabilityIn) -> Iterator[dict[str, Any]]:
    for i, exc in enumerate(body.exceptions):
        yield from _one_exception_errors(i, exc)
    extras = [(i, e) for i, e in enumerate(body.exceptions) if e.kind == "extra-hours"]
    for n, (i, exc) in enumerate(extras):
        for j, other in extras[:n]:
            (a1, a2), (b1, b2) = _exception_days(other), _exception_days(exc)
            # Days from one of `other`'s windows to one of `exc`'s.
            days = range((b1 - a2).days, (b2 - a1).days + 1)
            if exc.start and exc.end and other.start and other.end:
                if _windows_meet((other.start, other.end), (exc.start, exc.end), days):
                    yield OVERLAPS_EXCEPTION.at(f"exceptions.{i}", row=j + 1)


def _reason_errors(body: AvailabilityIn, own_ids: set[uuid.UUID]) -> Iterator[dict[str, Any]]:
    names: set[str] = set()
    ids: set[uuid.UUID] = set()
    for i, reason in enumerate(body.reasons):
        key = reason.name.strip().casefold()
        if key in names:
            yield NAME_TAKEN.at(f"reasons.{i}.name")
        names.add(key)
        if reason.id is not None:
            if reason.id in ids:
                yield LISTED_TWICE.at(f"reasons.{i}.id")
            elif reason.id not in own_ids:
                yield NOT_OWN_REASON.at(f"reasons.{i}.id")
            ids.add(reason.id)
        if len(set(reason.visit_types)) != len(reason.visit_types):
            yield LISTED_TWICE.at(f"reasons.{i}.visit_types")


def check_availability(body: AvailabilityIn, own_reason_ids: set[uuid.UUID]) -> CheckedAvailability:
    """Validate and convert, or raise InvalidInput listing every problem."""
    errors = [
        *_rule_errors(body),
        *_exception_errors(body),
        *_reason_errors(body, own_reason_ids),
    ]
    if errors:
        raise InvalidInput(AVAILABILITY_PROBLEMS, errors)
    return CheckedAvailability(
        rules=tuple(
            WeeklyRule(r.day_of_week, r.start, r.end, r.slot_minutes, r.visit_type, r.location)
            for r in body.rules
        ),
        exceptions=tuple(
            DateException(
                e.kind,
                e.start_date,
                e.end_date or e.start_date,
                e.start,
                e.end,
                e.slot_minutes,
                e.visit_type,
                e.location,
                e.note,
            )
            for e in body.exceptions
        ),
        reasons=tuple(
            VisitReason(
                r.id or uuid.uuid4(),
                r.name.strip(),
                r.duration_minutes,
                tuple(r.visit_types),
                r.fee_override,
                r.new_patients_allowed,
                r.refund_cutoff_hours,
                r.late_refund_percent,
                r.cancel_reason_required,
                r.pay_at_visit,
            )
            for r in body.reasons
        ),
        settings=DoctorSettings(
            body.settings.min_notice_minutes,
            body.settings.max_horizon_days,
            body.settings.buffer_minutes,
        ),
    )
