"""Scheduling failures, rendered as problem+json by server.problems."""

from __future__ import annotations

from typing import Any

from server.errors import Conflict, Forbidden


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

    def __init__(self, detail: str, status: str, allowed_transitions: list[str], **extra: Any):
        super().__init__(
            detail, current_status=status, allowed_transitions=allowed_transitions, **extra
        )
