"""Who may enter a consultation's call, in which role, and when (used by the REST join and by
`call.join` in signaling/calls.py).

Only the appointment's patient and doctor, only while its session is open, only within the
window [start - consult_join_early_s, end + consult_grace_s]. Admins may read a session but
never join: a consultation is between the two parties.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from server.scheduling.service import Parties
from server.settings import Settings
from server.teleconsult.errors import (
    CONSULTATION_CLOSED,
    IN_PERSON_VISIT,
    JOIN_CLOSED,
    JOIN_OPENS,
    NotAParty,
    NotTeleconsultation,
    OutsideJoinWindow,
    SessionClosed,
)
from server.teleconsult.window import join_window as window_of

CallRole = Literal["patient", "doctor"]

OPEN_SESSION = frozenset({"scheduled", "active"})
# An appointment marked completed may still have its call closing; cancelled ones may not.
JOINABLE_APPOINTMENT = frozenset({"scheduled", "confirmed", "completed"})


def polite(role: CallRole) -> bool:
    """Perfect negotiation: the patient is the polite peer, the doctor the impolite one."""
    return role == "patient"


def call_role(parties: Parties, user_id: uuid.UUID) -> CallRole | None:
    if user_id == parties.doctor_user_id:
        return "doctor"
    if user_id in parties.acting_user_ids:
        return "patient"
    return None


def join_window(parties: Parties, settings: Settings) -> tuple[datetime, datetime]:
    return window_of(parties.start, parties.end, settings)


def check_join(
    parties: Parties, session_status: str, user_id: uuid.UUID, settings: Settings, now: datetime
) -> CallRole:
    """The caller's role in the call, or the refusal (NotAParty first: it reveals nothing)."""
    role = call_role(parties, user_id)
    if role is None:
        raise NotAParty()  # a stranger learns nothing: the answer for a missing consultation
    if parties.visit_type != "teleconsultation":
        raise NotTeleconsultation(IN_PERSON_VISIT)
    if session_status not in OPEN_SESSION or parties.status not in JOINABLE_APPOINTMENT:
        raise SessionClosed(
            CONSULTATION_CLOSED,
            params={"session_status": session_status, "status": parties.status},
        )
    check_window(parties, settings, now)
    return role


def check_window(parties: Parties, settings: Settings, now: datetime) -> None:
    """OutsideJoinWindow (with `opens_at` / `closes_at`) unless `now` is inside the window."""
    opens, closes = join_window(parties, settings)
    if not opens <= now <= closes:
        raise OutsideJoinWindow(
            JOIN_OPENS if now < opens else JOIN_CLOSED,
            params={"at": (opens if now < opens else closes).isoformat()},
            opens_at=opens.isoformat(),
            closes_at=closes.isoformat(),
        )
