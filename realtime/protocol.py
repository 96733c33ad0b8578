"""The public Socket.IO protocol, declared once: namespaces, event names, limits, payloads.

docs/realtime.md documents exactly these declarations; change both together.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

# Namespaces.
AVAILABILITY_NS = "/availability"
AGENDA_NS = "/agenda"
NOTIFICATIONS_NS = "/notifications"
CONSULT_NS = "/consult"

# Client -> server events (each answered by an acknowledgement).
SUBSCRIBE = "subscribe"
UNSUBSCRIBE = "unsubscribe"
JOIN = "join"
LEAVE = "leave"
MESSAGE = "message"
HISTORY = "history"
READ = "read"

# Server -> client events.
SLOT_DELTA = "slot.delta"
NOTIFICATION = "notification"
SESSION_ENDED = "session.ended"
# /consult: live delivery may have missed messages or receipts (the cross-node fan-out was
# down); the client reads the stored history again.
RESYNC = "resync"
# /consult: the server took this socket out of a room (its user no longer acts for the patient).
LEFT = "left"
# /consult echoes MESSAGE and READ (completed by the server) to the other sockets in the room;
# /agenda carries the scheduling event types themselves (appointment.created, ...), see agenda.py.

# Limits (documented in docs/realtime.md).
MAX_DOCTORS_PER_SOCKET = 10
MAX_RANGE = timedelta(days=31)
MAX_MESSAGE_CHARS = 2000
HISTORY_PAGE = 50
MAX_HISTORY_PAGE = 100
# Per user across devices and nodes: a human types well below this; a script does not.
CHAT_RATE_LIMIT = "20/10 seconds"
# Engine.IO closes the connection on a larger frame; anything legitimate is far smaller.
MAX_FRAME_BYTES = 64 * 1024

ErrorCode = Literal[
    "unknown_event",
    "invalid_payload",
    "unauthenticated",
    "forbidden",
    "not_found",
    "not_joined",
    "too_many_subscriptions",
    "range_too_long",
    "message_too_long",
    "rate_limited",
    "conflict",
    "internal",
]

DeltaKind = Literal["held", "booked", "released", "added", "removed", "resync"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubscribeIn(_In):
    doctor_id: uuid.UUID
    start: AwareDatetime = Field(alias="from")
    end: AwareDatetime = Field(alias="to")
    # One of the signed-in caller's appointments with this doctor, being moved: the snapshot
    # counts its time as free and takes its length (as the REST query parameter of that name).
    excluding_appointment_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _range(self) -> SubscribeIn:
        if self.end <= self.start:
            raise ValueError("'to' must be after 'from'")
        return self


class UnsubscribeIn(_In):
    doctor_id: uuid.UUID


class JoinIn(_In):
    appointment_id: uuid.UUID


class MessageIn(_In):
    appointment_id: uuid.UUID
    # Length is checked by the service so the client gets `message_too_long`, not a parse error.
    body: str
    client_message_id: str | None = Field(default=None, min_length=1, max_length=64)


class HistoryIn(_In):
    appointment_id: uuid.UUID
    before: uuid.UUID | None = None
    limit: int = Field(default=HISTORY_PAGE, ge=1, le=MAX_HISTORY_PAGE)


class ReadIn(_In):
    message_id: uuid.UUID


class SlotOut(BaseModel):
    start: datetime
    end: datetime
    visit_type: str


class SlotDelta(BaseModel):
    doctor_id: uuid.UUID
    kind: DeltaKind
    slot: SlotOut | None
    availability_version: int
    occurred_at: datetime


class ChatMessage(BaseModel):
    id: uuid.UUID
    appointment_id: uuid.UUID
    sender_user_id: uuid.UUID
    body: str
    client_message_id: str | None
    created_at: datetime
    read_at: datetime | None


class ReadReceipt(BaseModel):
    appointment_id: uuid.UUID
    message_id: uuid.UUID
    reader_user_id: uuid.UUID
    read_at: datetime


class ChatResync(BaseModel):
    appointment_id: uuid.UUID


class RoomLeft(BaseModel):
    """The server removed the socket from the appointment's room (chat and call)."""

    appointment_id: uuid.UUID
    reason: Literal["access_revoked"]


class HistoryPage(BaseModel):
    appointment_id: uuid.UUID
    messages: list[ChatMessage]  # oldest first
    next_before: uuid.UUID | None  # pass as `before` for the previous page; null at the start


class Notification(BaseModel):
    """One in-app notification; the notifications domain decides kinds and texts."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    kind: str
    title: str
    body: str = ""
    data: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime


class SessionEnded(BaseModel):
    reason: Literal["expired", "revoked"]
