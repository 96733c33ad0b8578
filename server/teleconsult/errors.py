"""Teleconsultation failures, rendered as problem+json by server.problems."""

from __future__ import annotations

from server.errors import Conflict, Forbidden


class NotAParty(Forbidden):
    title = "Not a party to this consultation"
    type = "/problems/not-a-party"


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
