"""The appointment state machine: the one place that says which action leads where.

    held ──pay──▶ confirmed (paid: PRODUCT-SPEC section 8, payment.completed confirms)
    held ──claim──▶ scheduled (a waitlist offer accepted, nothing to pay first)
    scheduled ──confirm──▶ confirmed
    scheduled, confirmed ──reschedule──▶ scheduled (the new time needs confirming again)
    held ──cancel/expire──▶ cancelled ◀──cancel── scheduled, confirmed
    cancelled (an expired hold) ──retake──▶ confirmed (paid late, slot still free)
    scheduled, confirmed ──complete──▶ completed;  ──no_show──▶ no-show

An expired hold becomes `cancelled` with cancelled_by = "system" (the contract's status list has
no `expired`). completed, cancelled and no-show are final, but for `retake`: a payment that
succeeds after its hold expired takes the slot again while it is free (payments domain).

`refusal` is the one rule of who may do what when (role, status, clock, cut-off): both the
`allowed_transitions` of an API answer and the enforcement of an action ask it, so they never
disagree.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from server.errors import Forbidden, MarkiniError
from server.scheduling.errors import (
    CUTOFF_CANCEL,
    CUTOFF_CHANGE,
    NOT_STARTED,
    ONLY_DOCTOR,
    WRONG_STATUS,
    TooLate,
    TransitionRefused,
)

Status = Literal["held", "scheduled", "confirmed", "completed", "cancelled", "no-show"]
Action = Literal[
    "pay",
    "claim",
    "confirm",
    "cancel",
    "expire",
    "retake",
    "reschedule",
    "complete",
    "no_show",
]
Party = Literal["patient", "doctor", "admin"]
# Why an action is not open to this caller now.
Refusal = Literal["role", "status", "not_started", "cutoff"]

STATUSES: tuple[Status, ...] = (
    "held",
    "scheduled",
    "confirmed",
    "completed",
    "cancelled",
    "no-show",
)
ACTIVE: tuple[Status, ...] = ("held", "scheduled", "confirmed")

TRANSITIONS: dict[str, dict[str, Status]] = {
    "held": {
        "pay": "confirmed",
        "claim": "scheduled",
        "cancel": "cancelled",
        "expire": "cancelled",
    },
    "scheduled": {
        "confirm": "confirmed",
        "reschedule": "scheduled",
        "cancel": "cancelled",
        "complete": "completed",
        "no_show": "no-show",
    },
    "confirmed": {
        "reschedule": "scheduled",
        "cancel": "cancelled",
        "complete": "completed",
        "no_show": "no-show",
    },
    "completed": {},
    "cancelled": {"retake": "confirmed"},
    "no-show": {},
}

# Actions only other domains or the system perform (payments, the sweeper); never offered to
# API callers as allowed_transitions.
_INTERNAL: frozenset[str] = frozenset({"pay", "claim", "expire", "retake"})
OFFERED: tuple[Action, ...] = ("confirm", "reschedule", "cancel", "complete", "no_show")

# Who may ask for which action on an appointment they take part in.
ACTION_PARTIES: dict[str, frozenset[Party]] = {
    "cancel": frozenset({"patient", "doctor", "admin"}),
    "reschedule": frozenset({"patient", "doctor", "admin"}),
    "update": frozenset({"patient", "doctor", "admin"}),
    "confirm": frozenset({"doctor", "admin"}),
    "complete": frozenset({"doctor", "admin"}),
    "no_show": frozenset({"doctor", "admin"}),
}
# Only what happened can be completed or missed.
_AFTER_START: frozenset[str] = frozenset({"complete", "no_show"})
# What a patient may do only until the cut-off before the appointment (a hold is let go any time).
_PATIENT_CUTOFF: frozenset[str] = frozenset({"cancel", "reschedule"})


def refusal(
    action: Action,
    party: Party | None,
    status: str,
    start: datetime,
    now: datetime,
    cutoff: timedelta,
) -> Refusal | None:
    """Why `party` (None: the system itself) may not do `action` now, or None when it may."""
    if party is not None and party not in ACTION_PARTIES.get(action, frozenset()):
        return "role"
    if action not in TRANSITIONS.get(status, {}):
        return "status"
    if action in _AFTER_START and now < start:
        return "not_started"
    if action in _PATIENT_CUTOFF and party == "patient" and status != "held":
        if now > start - cutoff:
            return "cutoff"
    return None


def allowed_transitions(
    party: Party | None, status: str, start: datetime, now: datetime, cutoff: timedelta
) -> list[str]:
    """What this caller may do now: the actions `refusal` lets through."""
    return [a for a in OFFERED if refusal(a, party, status, start, now, cutoff) is None]


def refused_transitions(
    party: Party | None, status: str, start: datetime, now: datetime, cutoff: timedelta
) -> dict[str, Refusal]:
    """Actions the status allows but the clock does not (yet or any more), with why."""
    found = {a: refusal(a, party, status, start, now, cutoff) for a in OFFERED}
    return {a: r for a, r in found.items() if r in ("not_started", "cutoff")}


def check_transition(
    action: Action,
    party: Party | None,
    status: str,
    start: datetime,
    now: datetime,
    cutoff: timedelta,
) -> Status:
    """The status `action` leads to; raises the refusal (403 role, 409 otherwise)."""
    why = refusal(action, party, status, start, now, cutoff)
    if why is not None:
        raise refusal_error(action, why, party, status, start, now, cutoff)
    return TRANSITIONS[status][action]


def refusal_error(
    action: Action,
    why: Refusal,
    party: Party | None,
    status: str,
    start: datetime,
    now: datetime,
    cutoff: timedelta,
) -> MarkiniError:
    allowed = allowed_transitions(party, status, start, now, cutoff)
    hours = cutoff.total_seconds() / 3600
    if why == "role":
        return Forbidden(ONLY_DOCTOR, params={"action": action.replace("_", "-")})
    if why == "cutoff":
        return TooLate(
            CUTOFF_CANCEL if action == "cancel" else CUTOFF_CHANGE,
            params={"hours": f"{hours:g}"},
            cutoff_hours=hours,
            current_status=status,
            allowed_transitions=allowed,
        )
    if why == "not_started":
        return TransitionRefused(NOT_STARTED, status, allowed, reason="not_started")
    return TransitionRefused(
        WRONG_STATUS, status, allowed, params={"status": status, "action": _PAST[action]}
    )


def is_active(status: str) -> bool:
    return status in ACTIVE


_PAST: dict[Action, str] = {
    "pay": "paid",
    "claim": "claimed",
    "confirm": "confirmed",
    "cancel": "cancelled",
    "expire": "expired",
    "retake": "taken again",
    "reschedule": "rescheduled",
    "complete": "completed",
    "no_show": "marked as a no-show",
}
