"""Teleconsultation failures, rendered as problem+json by server.problems."""

from __future__ import annotations

from server.errors import Conflict, Forbidden, NotFound, Reason

# What a stranger and a caller asking for a missing consultation both read: appointment ids are
# public (reviews name them), so a refusal must not tell that one exists.
NO_SUCH_CONSULTATION = Reason("no-such-consultation", "No such consultation.")


class NotAParty(NotFound):
    """Answered exactly like a consultation that does not exist (same type, title, detail)."""

    def __init__(self, detail: Reason = NO_SUCH_CONSULTATION) -> None:
        super().__init__(detail)


class WrongParty(Forbidden):
    """A party (or an admin, who sees every consultation) asking for another party's part."""

    title = "Not your part in this consultation"
    type = "/problems/wrong-party"


class OutsideJoinWindow(Forbidden):
    """Too early or too late; `opens_at` / `closes_at` say when joining is possible."""

    title = "Outside the joining window"
    type = "/problems/outside-join-window"


class NotTeleconsultation(Conflict):
    title = "Not a teleconsultation"
    type = "/problems/not-teleconsultation"


class SessionClosed(Conflict):
    """The session has ended, or its appointment was cancelled or closed."""

    title = "Consultation closed"
    type = "/problems/consultation-closed"


class RecordingRefused(Conflict):
    """Recording needs both parties' consent and a call in progress."""

    title = "Recording not possible"
    type = "/problems/recording-refused"


IN_PERSON_VISIT = Reason("in-person-visit", "This appointment is an in-person visit.")
APPOINTMENT_CLOSED = Reason("appointment-closed", "The appointment is {status}.")
CONSULTATION_CLOSED = Reason(
    "session-closed",
    "This consultation is closed (session {session_status}, appointment {status}).",
)
CONSULTATION_ENDED = Reason("consultation-ended", "This consultation has ended.")
JOIN_OPENS = Reason("join-opens", "Joining opens at {at}.")
JOIN_CLOSED = Reason("join-closed", "Joining closed at {at}.")
ADMINS_NEVER_JOIN = Reason("admins-never-join", "Admins read consultations but never join them.")
PARTIES_CONSENT = Reason("parties-consent", "Only the patient and the doctor consent to recording.")
NO_SUCH_RECORDING = Reason("no-such-recording", "No such recording.")
JOIN_TOKEN_INVALID = Reason(
    "join-token-invalid",
    "The join token is invalid or expired; ask for a new one (GET .../token).",
)


class InviteUnusable(Conflict):
    """A third participant's link that was used, revoked, or whose consultation has ended."""

    title = "Invitation link not usable"
    type = "/problems/invite-unusable"


NO_SUCH_INVITE = Reason("no-such-invite", "No such invitation link.")
INVITE_USED = Reason("invite-used", "This invitation link was used already.")
INVITE_REVOKED = Reason("invite-revoked", "This invitation link was withdrawn.")
INVITE_EXPIRED = Reason("invite-expired", "This invitation link expired with its consultation.")
INVITE_ONE_GUEST = Reason(
    "invite-one-guest", "This consultation already has its third participant."
)
