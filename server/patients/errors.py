"""Failures of the patients domain, rendered as problem bodies by server.problems."""

from __future__ import annotations

from server.errors import Conflict, MarkiniError, NotFound, Reason


class PatientNotFound(NotFound):
    """Also what a caller gets for a patient they may not see: existence is not leaked."""

    title = "Patient not found"
    type = "/problems/patient-not-found"


class PatientExists(Conflict):
    title = "Patient profile already exists"
    type = "/problems/patient-exists"


class HistoryUnreadable(MarkiniError):
    """A stored entry does not decrypt: a data key is missing from settings, or the row was
    tampered with. The server's fault (500), never shown as garbage or partial data."""

    status = 500
    title = "Medical history unreadable"
    type = "/problems/medical-history-unreadable"


PROFILE_ALREADY = Reason("patient-profile-exists", "This account already has a patient profile.")
NO_PROFILE_YET = Reason("no-patient-profile", "You have no patient profile yet; create it first.")
RECORD_NOT_ALLOWED = Reason(
    "record-not-allowed", "Your role does not allow this on a patient's record."
)
HISTORY_UNREADABLE = Reason("history-unreadable", "A medical history entry cannot be decrypted.")
HISTORY_NOT_SHARED = Reason(
    "history-not-shared",
    "This relative's medical history is not shared with you (ask them to allow it).",
)
NO_SUCH_RELATIVE = Reason("no-such-relative", "No such relative among those you manage.")
RELATIVE_STILL_BOOKED = Reason(
    "relative-has-upcoming-appointments",
    "Nobody else acts for this relative and {count} upcoming appointment(s) would reach nobody: "
    "cancel them first (`appointments` lists them), then remove the relative.",
)
CONSENT_MISFIT = Reason(
    "consent-misfit", "The consent basis does not fit the relative's age (see `errors`)."
)
