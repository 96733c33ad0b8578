"""The WebRTC signaling protocol on /consult, declared once (documented in docs/realtime.md,
section "Signaling (/consult)").

Roles: the doctor is the impolite peer, the patient the polite one (perfect negotiation: on an
offer collision the polite side rolls back its own offer, the impolite side ignores the other's).
The server tells each socket its role in the `call.join` acknowledgement.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from server.scheduling.schemas import AgendaPatient

LeftReason = Literal["hangup", "left", "replaced", "ended", "refused"]
# A call's seats: its two parties and at most one invited third participant (the guest).
Seat = Literal["patient", "doctor", "guest"]
GuestRole = Literal["carer", "interpreter", "clinician"]

# Client -> server (each acknowledged `{ok, data}` / `{ok: false, error}`, like all of /consult).
CALL_JOIN = "call.join"
CALL_ADMIT = "call.admit"
CALL_OFFER = "call.offer"
CALL_ANSWER = "call.answer"
CALL_ICE = "call.ice"
CALL_HANGUP = "call.hangup"
# What a party sends of its own media and link: video paused (by hand or for a weak link), and
# the connection quality it measures (getStats); relayed to the other party as is, plus `from`.
CALL_MEDIA = "call.media"
# The waiting room's network check: acknowledged at once with the bytes received, so the page
# measures the round trip (small probes) and its upload throughput (padded ones) to the server.
PRECHECK_PROBE = "precheck.probe"
MAX_PROBE_CHARS = 48_000  # under the 64 kB frame cap
# Recording (both parties consented): offer to the server's recorder, answer in the ack.
CALL_RECORD = "call.record"
CALL_RECORD_STOP = "call.record_stop"

# The third participant (docs/realtime.md, "Third participant"): the doctor admits or refuses
# the invitee waiting in the waiting room.
CALL_ADMIT_GUEST = "call.admit_guest"
CALL_REFUSE_GUEST = "call.refuse_guest"

# Server -> client. call.offer / call.answer / call.ice are also relayed under their own names.
CALL_WAITING = "call.waiting"  # to the doctor: the patient is in the waiting room
CALL_ADMITTED = "call.admitted"  # to the patient: the doctor let you in
CALL_PEER_JOINED = "call.peer_joined"
CALL_PEER_LEFT = "call.peer_left"
CALL_REPLACED = "call.replaced"  # to a socket another socket of the same party replaced
CALL_ENDED = "call.ended"
CALL_GUEST_WAITING = "call.guest_waiting"  # to the doctor: the invitee is in the waiting room
CALL_REFUSED = "call.refused"  # to the invitee: the doctor refused them

# On /agenda (Realtime.notify_agenda): who waits in the doctor's waiting rooms.
AGENDA_WAITING = "teleconsultation.waiting"

# An SDP of a few audio / video / data sections is a few kB; the frame cap is 64 kB anyway.
MAX_SDP_CHARS = 32_000
MAX_CANDIDATE_CHARS = 1_000


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CallJoinIn(_In):
    join_token: str = Field(min_length=1, max_length=4096)
    # True when the client kept its RTCPeerConnection (only the socket reconnected): the peers
    # keep theirs and restart ICE if needed; false means "I have a new connection".
    resume: bool = False


class SessionRef(_In):
    session_id: uuid.UUID


class Description(_In):
    type: Literal["offer", "answer"]
    sdp: str = Field(min_length=1, max_length=MAX_SDP_CHARS)


class DescriptionIn(_In):
    session_id: uuid.UUID
    description: Description
    to: Seat | None = None  # default: the other party; a three-way call names the seat


class Candidate(BaseModel):
    """RTCIceCandidateInit; unknown browser fields are dropped, not refused."""

    model_config = ConfigDict(extra="ignore")

    candidate: str = Field(max_length=MAX_CANDIDATE_CHARS)
    sdpMid: str | None = Field(default=None, max_length=64)  # noqa: N815 (WebRTC's name)
    sdpMLineIndex: int | None = Field(default=None, ge=0, le=255)  # noqa: N815
    usernameFragment: str | None = Field(default=None, max_length=256)  # noqa: N815


class IceIn(_In):
    session_id: uuid.UUID
    candidate: Candidate | None  # null: end of candidates
    to: Seat | None = None


class ProbeIn(_In):
    pad: str = Field(default="", max_length=MAX_PROBE_CHARS)


class ProbeAck(BaseModel):
    bytes: int  # characters of `pad` received


Quality = Literal["good", "fair", "poor"]


class MediaIn(_In):
    session_id: uuid.UUID
    video: bool  # false: this party's video is paused (audio only)
    reason: Literal["manual", "weak_link"] | None = None  # why video is paused (null: sending)
    quality: Quality | None = None  # null: not measured yet
    to: Seat | None = None


class PeerState(BaseModel):
    role: Seat
    present: bool
    waiting: bool  # present but not yet admitted (patients only)


class GuestState(BaseModel):
    """The call's invited third participant, as the parties (and the invitee) see it."""

    invite_id: uuid.UUID
    display_name: str
    role: GuestRole
    status: Literal["waiting", "admitted"]
    present: bool


class CallJoined(BaseModel):
    session_id: uuid.UUID
    appointment_id: uuid.UUID
    role: Seat
    polite: bool
    admitted: bool  # false: wait for call.admitted
    status: str
    peer: PeerState  # the other party (for the guest: the doctor)
    guest: GuestState | None = None  # the third participant, if one is waiting or in the call


class Relayed(BaseModel):
    delivered: bool  # false when the other party is not in the call (yet)


class Admitted(BaseModel):
    session_id: uuid.UUID
    started_at: datetime | None
    peer: PeerState


class RecordingAnswer(BaseModel):
    session_id: uuid.UUID
    description: Description  # the recorder's answer (all its candidates inside)


class WaitingNews(BaseModel):
    session_id: uuid.UUID
    appointment_id: uuid.UUID
    patient_id: uuid.UUID
    # What the doctor's agenda shows of the patient, as in its appointment events: the banner
    # names them even when the appointment lies outside the agenda's viewed range.
    patient: AgendaPatient | None
    waiting: bool
    at: datetime
