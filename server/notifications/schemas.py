"""Request and response bodies of /api/v1/notifications."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from server.doctors.schemas import TimeZone
from server.errors import FieldCode
from server.notifications.phones import to_e164

INVALID_PHONE = FieldCode(
    "invalid_phone_number", "not a valid mobile number (e.g. +33 6 12 34 56 78)"
)

MAX_REMINDERS = 4
MIN_OFFSET_MINUTES = 5
MAX_OFFSET_MINUTES = 14 * 1440


class Notification(BaseModel):
    """One in-app notification (the bell); `read_at` is null while unread."""

    id: uuid.UUID
    kind: str = Field(description="e.g. appointment.reminder, appointment.cancelled")
    title: str
    body: str
    data: dict[str, Any] = Field(description="e.g. {appointment_id}")
    created_at: datetime
    read_at: datetime | None


class NotificationPage(BaseModel):
    items: list[Notification] = Field(description="Newest first.")
    unread_count: int
    next_before: datetime | None = Field(
        description="Pass as `before` for older ones; null at the end."
    )


class MarkRead(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[uuid.UUID] | None = Field(
        None, max_length=200, description="Notifications to mark read; null: all of them."
    )


class UnreadCount(BaseModel):
    unread_count: int


class Preferences(BaseModel):
    """How a user wants to hear from Markini. Security messages (sign-in codes, password
    resets) are sent whatever the channel switches say."""

    model_config = ConfigDict(extra="forbid")

    language: Literal["en", "fr"] = "en"
    time_zone: TimeZone | None = Field(
        None, description="IANA zone for times in messages; null: the doctor's zone."
    )
    phone: str | None = Field(
        None,
        max_length=32,
        description="Mobile for SMS; stored in E.164 (a number without +country is French).",
    )
    email: bool = True
    sms: bool = True
    in_app: bool = True

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            return to_e164(value)
        except ValueError:
            raise INVALID_PHONE.error() from None


class ReminderSettings(BaseModel):
    """A practice's reminders: minutes before each appointment (1440 = the day before, at the
    same time of day)."""

    model_config = ConfigDict(extra="forbid")

    offsets_minutes: list[int] = Field(max_length=MAX_REMINDERS)

    @field_validator("offsets_minutes")
    @classmethod
    def _offsets(cls, value: list[int]) -> list[int]:
        if any(not MIN_OFFSET_MINUTES <= v <= MAX_OFFSET_MINUTES for v in value):
            raise ValueError(f"each offset is {MIN_OFFSET_MINUTES} to {MAX_OFFSET_MINUTES} minutes")
        return sorted(set(value), reverse=True)


class MailboxEntry(BaseModel):
    id: uuid.UUID
    kind: str
    channel: Literal["email", "sms"]
    recipient: str
    subject: str | None
    body: str
    calendar: str | None = Field(description="The attached RFC 5545 invitation, if any.")
    received_at: datetime


class Delivery(BaseModel):
    """One message of the delivery log: where it went, how often it was tried, what happened."""

    id: uuid.UUID
    kind: str
    channel: Literal["email", "sms"]
    recipient: str
    status: Literal["queued", "sending", "sent", "failed", "unconfirmed"] = Field(
        description="unconfirmed: the worker stopped between handing it over and recording it "
        "(possibly sent; never sent again)."
    )
    attempts: int
    provider_id: str | None = Field(description="SMTP Message-ID or Twilio message SID.")
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class DeliveryLog(BaseModel):
    items: list[Delivery] = Field(description="Oldest first.")


class Mailbox(BaseModel):
    items: list[MailboxEntry] = Field(description="Newest first.")
