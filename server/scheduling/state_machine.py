"""The appointment state machine: the one place that says which action leads where.

    held ──pay──▶ scheduled ──confirm──▶ confirmed
      │              │  ▲ reschedule        │ reschedule (back to scheduled: the new time
      │              │  └───────────────────┘  needs confirming again)
      ├─cancel/expire▶ cancelled ◀──cancel── scheduled, confirmed
    scheduled, confirmed ──complete──▶ completed;  ──no_show──▶ no-show

An expired hold becomes `cancelled` with cancelled_by = "system" (the contract's status list has
no `expired`). completed, cancelled and no-show are final.
"""

from __future__ import annotations

from typing import Literal

from server.scheduling.errors import TransitionRefused

Status = Literal["held", "scheduled", "confirmed", "completed", "cancelled", "no-show"]
Action = Literal["pay", "confirm", "cancel", "expire", "reschedule", "complete", "no_show"]

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
    "held": {"pay": "scheduled", "cancel": "cancelled", "expire": "cancelled"},
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
    "cancelled": {},
    "no-show": {},
}

# Actions only other domains or the system perform (payments, the sweeper); never offered to
# API callers as allowed_transitions.
_INTERNAL: frozenset[str] = frozenset({"pay", "expire"})


def allowed_transitions(status: str) -> list[str]:
    """Actions an API caller may attempt from `status` (role rules apply on top)."""
    return [a for a in TRANSITIONS.get(status, {}) if a not in _INTERNAL]


def next_status(status: str, action: Action) -> Status:
    """The status `action` leads to, or TransitionRefused naming what is allowed instead."""
    target = TRANSITIONS.get(status, {}).get(action)
    if target is None:
        raise TransitionRefused(
            f"An appointment that is {status} cannot be {_PAST[action]}.",
            status,
            allowed_transitions(status),
        )
    return target


def is_active(status: str) -> bool:
    return status in ACTIVE


_PAST: dict[Action, str] = {
    "pay": "paid",
    "confirm": "confirmed",
    "cancel": "cancelled",
    "expire": "expired",
    "reschedule": "rescheduled",
    "complete": "completed",
    "no_show": "marked as a no-show",
}
