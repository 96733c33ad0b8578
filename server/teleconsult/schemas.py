"""HTTP shapes of teleconsultation sessions, joins and recording consent."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from server.teleconsult.access import CallRole
from server.textguard import Printable

SessionStatus = Literal["scheduled", "active", "completed", "failed"]


class SessionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    appointment_id: uuid.UUID


class SessionEnd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["completed", "failed"] | None = Field(
        default=None,
        description="Default: completed if the call started, failed if it never did.",
    )
    reason: Annotated[str, Field(max_length=500), Printable] | None = None


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    consent: bool = Field(description="true gives consent to recording; false withdraws it.")


class RecordingState(BaseModel):
    patient_consent: bool
    doctor_consent: bool
    url: str | None = Field(description="Only once a recording exists.")


class SessionOut(BaseModel):
    id: uuid.UUID
    appointment_id: uuid.UUID
    room_id: str
    status: SessionStatus
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    duration_s: int | None = Field(description="Whole seconds from start to end; 0 if unstarted.")
    end_reason: str | None
    recording_url: str | None
    recording: RecordingState
    join_opens_at: datetime = Field(
        description="When its parties may first join: the appointment's start minus the "
        "server's consult_join_early_s. Clients show the join entry from then on."
    )
    join_closes_at: datetime = Field(
        description="When joining closes: the appointment's end plus the server's "
        "consult_grace_s (an active call left open is completed then)."
    )


class JoinWindow(BaseModel):
    opens_at: datetime = Field(description="As the session's `join_opens_at`.")
    closes_at: datetime = Field(description="As the session's `join_closes_at`.")


class IceServer(BaseModel):
    """One entry of RTCConfiguration.iceServers."""

    urls: list[str]
    username: str | None = None
    credential: str | None = None


class SignalingInfo(BaseModel):
    # The transport's names (realtime.protocol.CONSULT_NS, signaling.protocol.CALL_JOIN), written
    # out because the domain imports no adapter; tests/signaling checks that they still agree.
    namespace: str = "/consult"
    join_event: str = "call.join"


class JoinOut(BaseModel):
    """Everything a browser needs to enter the call (docs/realtime.md, "Signaling")."""

    session_id: uuid.UUID
    appointment_id: uuid.UUID
    room_id: str
    role: CallRole
    polite: bool = Field(description="Perfect negotiation: the patient is polite, the doctor not.")
    token: str = Field(description="Join token: send it with call.join on /consult.")
    expires_at: datetime
    ice_servers: list[IceServer] = Field(description="RTCConfiguration.iceServers; may be empty.")
    window: JoinWindow
    signaling: SignalingInfo = Field(default_factory=SignalingInfo)


class RecordingFile(BaseModel):
    name: str
    role: CallRole
    bytes: int
    url: str


class RecordingList(BaseModel):
    """One WebM file per party and connection (a party who rejoined has several)."""

    session_id: uuid.UUID
    files: list[RecordingFile]


DeviceState = Literal["ok", "denied", "missing", "error"]


class PrecheckIn(BaseModel):
    """What a party's waiting-room check found (docs/realtime.md, "Pre-call check")."""

    model_config = ConfigDict(extra="forbid")

    verdict: Literal["good", "audio_only", "cannot_connect"] = Field(
        description="good; audio_only: audio only advised; cannot_connect: try another network."
    )
    camera: DeviceState
    microphone: DeviceState
    rtt_ms: int | None = Field(
        default=None, ge=0, le=600_000, description="Median WebSocket round trip; null: none."
    )
    throughput_kbps: int | None = Field(
        default=None, ge=0, le=10_000_000, description="Upload to the server over the socket."
    )


class PrecheckOut(PrecheckIn):
    model_config = ConfigDict(extra="ignore")

    role: Literal["patient", "doctor"]
    checked_at: datetime


class PrecheckList(BaseModel):
    checks: list[PrecheckOut] = Field(description="Each party's latest check (at most two).")


GuestRole = Literal["carer", "interpreter", "clinician"]
InviteStatus = Literal["pending", "waiting", "admitted", "refused", "revoked"]


class InviteOut(BaseModel):
    """A third participant's invitation (docs/realtime.md, "Third participant")."""

    id: uuid.UUID
    session_id: uuid.UUID
    status: InviteStatus
    created_at: datetime
    display_name: str | None = Field(description="Given by the invitee when using the link.")
    guest_role: GuestRole | None
    used_at: datetime | None
    decided_at: datetime | None = Field(description="Admitted, refused or revoked at.")


class InviteCreated(InviteOut):
    token: str = Field(description="The single-use link's secret: shown in this answer only.")
    path: str = Field(description="The web app's page for the link, e.g. /invite/{token}.")


class InviteList(BaseModel):
    invites: list[InviteOut]


class InvitePreview(BaseModel):
    """All an invitee reads of the consultation before and after entering: the doctor's name
    and the time."""

    doctor_name: str
    start: datetime
    end: datetime
    join_opens_at: datetime
    join_closes_at: datetime


class InviteTokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=200, description="The link's secret.")


class GuestIn(InviteTokenIn):
    # Stripped: a name of spaces would show the doctor an empty seat in the waiting room.
    display_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80), Printable
    ]
    role: GuestRole


class GuestOut(BaseModel):
    invite_id: uuid.UUID
    session_id: uuid.UUID
    appointment_id: uuid.UUID = Field(description="Names the consultation room on /consult.")
    guest_token: str = Field(
        description="Connect /consult with auth {guest_token}, then call.join with it."
    )
    expires_at: datetime
    display_name: str
    role: GuestRole
    doctor_name: str
    start: datetime
    ice_servers: list[IceServer]
