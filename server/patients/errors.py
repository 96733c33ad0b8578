"""Failures of the patients domain, rendered as problem bodies by server.problems."""

from __future__ import annotations

from server.errors import Conflict, MarkiniError, NotFound


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
