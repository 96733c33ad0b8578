"""A session's call as one socket sees it: its seat and the sockets of the others."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from server.teleconsult.access import CallRole
from signaling.protocol import Seat


def other(role: CallRole) -> CallRole:
    return "doctor" if role == "patient" else "patient"


@dataclass(frozen=True)
class Call:
    """A session's state as one socket sees it."""

    session_id: uuid.UUID
    appointment_id: uuid.UUID
    doctor_id: uuid.UUID
    status: str
    started: bool
    me: Seat
    peer_sid: str | None  # the other party's (patient <-> doctor); None for the guest
    sids: dict[str, str]  # every present seat's socket: patient, doctor, guest

    def others(self) -> dict[str, str]:
        return {seat: sid for seat, sid in self.sids.items() if seat != self.me}
