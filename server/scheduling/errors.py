"""Scheduling failures, rendered as problem+json by server.problems."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from server.errors import Conflict, FieldCode, Forbidden, Reason


class SlotTaken(Conflict):
    """Someone else holds or booked an overlapping time; `alternatives` lists nearby free slots."""

    title = "Slot taken"
    type = "/problems/slot-taken"


class SlotUnavailable(Conflict):
    """The time is not on the doctor's slot grid (or not for this visit type / reason)."""

    title = "Slot unavailable"
    type = "/problems/slot-unavailable"


class PatientBusy(Conflict):
    title = "Overlapping appointment"
    type = "/problems/patient-busy"


class TooLate(Conflict):
    """Patients change or cancel only until the cut-off before the appointment."""

    title = "Too late to change"
    type = "/problems/too-late"


class NotAcceptingNewPatients(Forbidden):
    title = "Not accepting new patients"
    type = "/problems/new-patients-closed"


class TransitionRefused(Conflict):
    """The appointment's state machine does not allow this action now."""

    title = "Transition refused"
    type = "/problems/transition-refused"

    def __init__(
        self,
        detail: Reason,
        status: str,
        allowed_transitions: list[str],
        *,
        params: Mapping[str, str | int | float] | None = None,
        **extra: Any,
    ):
        super().__init__(
            detail,
            params={"status": status, **(params or {})},
            current_status=status,
            allowed_transitions=allowed_transitions,
            **extra,
        )


# Why an appointment action is refused (state machine, server/scheduling/state_machine.py).
ONLY_DOCTOR = Reason("only-doctor-or-admin", "Only the doctor or an admin can {action} this.")
CUTOFF_CANCEL = Reason(
    "cutoff-cancel",
    "Patients can cancel an appointment until {hours} h before it; contact the practice.",
)
CUTOFF_CHANGE = Reason(
    "cutoff-change",
    "Patients can change an appointment until {hours} h before it; contact the practice.",
)
NOT_STARTED = Reason(
    "not-started",
    "An appointment can be completed or marked as a no-show once it has started.",
)
HOURS_CHANGING = Reason(
    "hours-changing", "The doctor is changing these hours; try again in a moment."
)
NOT_AN_EXPIRED_HOLD = Reason("not-an-expired-hold", "Only an expired hold can be taken again.")
NOBODY_ACTS = Reason(
    "nobody-acts", "Nobody acts for the patient any more: their expired hold stays released."
)
WRONG_STATUS = Reason("wrong-status", "An appointment that is {status} cannot be {action}.")
NOT_EDITABLE = Reason("not-editable", "An appointment that is {status} can no longer be edited.")
# Booking and moving.
SLOT_JUST_TAKEN = Reason("slot-just-taken", "This slot was just taken; pick another one.")
NOT_ON_GRID = Reason("not-on-grid", "The doctor offers no such slot; pick one of the free slots.")
PATIENT_OVERLAP = Reason(
    "patient-overlap", "You already have an appointment overlapping this time."
)
EXISTING_PATIENTS_ONLY = Reason(
    "existing-patients-only", "This doctor only sees existing patients for this visit."
)
PATIENTS_BOOK = Reason("patients-book", "Only patients (or admins for them) book appointments.")
PROFILE_FIRST = Reason("profile-first", "Complete your patient profile before booking.")
BOOK_FOR_SELF = Reason("book-for-self", "Patients book for themselves only.")
OWN_APPOINTMENTS = Reason("own-appointments", "You can only list your own appointments.")
OWN_AGENDA = Reason("own-agenda", "You can only list your own agenda.")
EDIT_AVAILABILITY = Reason(
    "availability-editor", "Only the doctor or an admin can change this availability."
)
SIGN_IN_TO_MOVE = Reason(
    "sign-in-to-move", "Sign in to see the times your appointment could move to."
)
INVALID_BOOKING = Reason("invalid-booking", "This time cannot be booked.")
AVAILABILITY_PROBLEMS = Reason(
    "availability-problems", "The availability has problems; see errors."
)
REASON_MISFIT = Reason("reason-misfit", "This visit reason does not fit the appointment.")
UNKNOWN_REASON = Reason("unknown-reason", "This doctor has no such visit reason.")
BAD_RANGE = Reason("range-reversed", "`to` must be after `from`.")
RANGE_TOO_LONG = Reason("range-too-long", "Ask for at most {days} days at a time.")
UNKNOWN_VISIT_TYPE = Reason("unknown-visit-type", "Unknown visit type.")

# Field errors of a booking or a move (`start`, `visit_type`, `patient_id`, `reason_id`, `to`).
PATIENT_REQUIRED = FieldCode("patient_required", "required for admins")
UNKNOWN_PATIENT = FieldCode("unknown_patient", "unknown patient")
IN_THE_PAST = FieldCode("in_the_past", "in the past")
INSIDE_NOTICE = FieldCode(
    "inside_notice", "inside the minimum notice of {min_notice_minutes} minutes"
)
BEYOND_HORIZON = FieldCode(
    "beyond_horizon", "beyond the booking horizon of {max_horizon_days} days"
)
TYPE_NOT_OFFERED = FieldCode("type_not_offered", "not offered for this reason")
UNCHANGED = FieldCode("unchanged", "the appointment is already then")
REASON_WRONG_TYPE = FieldCode("reason_wrong_type", "this reason is not offered as {visit_type}")
REASON_WRONG_LENGTH = FieldCode(
    "reason_wrong_length", "this reason takes another duration; reschedule instead"
)
TO_BEFORE_FROM = FieldCode("to_before_from", "must be after from")
RANGE_OVER_MAX = FieldCode("range_over_max", "range longer than {days} days")
UNKNOWN_TYPE = FieldCode("unknown_visit_type", "unknown")

# Cancellation policy (issue #22): a visit reason may ask the patient why they cancel.
CANCEL_REASON_REQUIRED = FieldCode(
    "cancel-reason-required", "This visit's cancellation policy asks why you cancel."
)
INVALID_CANCELLATION = Reason("invalid-cancellation", "The cancellation is invalid.")
