"""Turn "tell this person this" into rows: queued email/SMS in the delivery log and an in-app
notification (pushed live once the caller's transaction commits, ports.py), all in the caller's
transaction.

Each row's dedup key names its cause (an event id, a reminder), the recipient and the channel:
the same cause can never queue the same message twice. An SMS is keyed by its number instead of
its user: people acting for one patient who share a phone (a family's) get one text per cause,
the first of them to be notified's (each still gets their own email and bell).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from server.notifications import templating
from server.notifications.events import NotificationCreated
from server.notifications.phones import to_e164
from server.notifications.ports import to_push
from storage.notify import inbox
from storage.notify.messages import NewMessage, queue_message
from storage.notify.parties import Recipient

# Texts worth an SMS (it costs, and interrupts): what changes the patient's day, and codes.
SMS_KINDS = frozenset(
    {
        "appointment.reminder",
        "appointment.cancelled",
        "appointment.rescheduled",
        "teleconsultation.link",
        "waitlist.offered",
        "mfa.code",
    }
)
# Security messages reach the user whatever their preferences say (never in the bell).
SECURITY_KINDS = frozenset({"mfa.code"})


@dataclass(frozen=True)
class Outgoing:
    cause: str  # what makes this message exist: "event:<id>", "reminder:<appt>:<offset>:<start>"
    kind: str  # the template, e.g. "appointment.reminder"
    recipient: Recipient
    context: dict[str, Any]
    appointment_id: uuid.UUID | None = None
    calendar: str | None = None  # RFC 5545 text for the email
    reference: str | None = None  # SMS reminders: the code a reply names
    data: dict[str, Any] = field(default_factory=dict)  # the in-app notification's data
    only: str | None = None  # one channel ("email", "sms") instead of all the accepted ones


def _e164(phone: str | None) -> str | None:
    """The number in E.164, or None: a patient profile's number is free text."""
    try:
        return to_e164(phone) if phone else None
    except ValueError:
        return None


async def notify(con: asyncpg.Connection, out: Outgoing, now: datetime) -> list[str]:
    """Queue the message on each channel the recipient accepts; returns the channels used."""
    person = out.recipient
    text = templating.render(out.kind, person.language, name=person.name, **out.context)
    security = out.kind in SECURITY_KINDS
    key = f"{out.cause}:{person.user_id}"
    used: list[str] = []
    if text.text and (person.email_on or security) and out.only in (None, "email"):
        message = NewMessage(
            dedup_key=f"{key}:email",
            user_id=person.user_id,
            kind=out.kind,
            channel="email",
            recipient=person.email,
            subject=text.subject,
            body=text.text + "\n",
            calendar=out.calendar,
            appointment_id=out.appointment_id,
        )
        if await queue_message(con, message, now):
            used.append("email")
    wants_sms = out.kind in SMS_KINDS and (person.sms_on or security)
    phone = _e164(person.phone)
    if text.sms and phone and wants_sms and out.only in (None, "sms"):
        message = NewMessage(
            dedup_key=f"{out.cause}:sms:{phone}",
            user_id=person.user_id,
            kind=out.kind,
            channel="sms",
            recipient=phone,
            subject=None,
            body=text.sms,
            appointment_id=out.appointment_id,
            reference=out.reference,
        )
        if await queue_message(con, message, now):
            used.append("sms")
    if text.title and person.in_app_on and not security and out.only is None:
        created = NotificationCreated(
            id=uuid.uuid4(),
            user_id=person.user_id,
            kind=out.kind,
            title=text.title,
            body=text.summary,
            data={
                **out.data,
                **({"appointment_id": str(out.appointment_id)} if out.appointment_id else {}),
            },
            created_at=now,
        )
        stored = await inbox.add(
            con,
            created.id,
            f"{key}:in_app",
            person.user_id,
            created.kind,
            created.title,
            created.body,
            created.data,
            now,
        )
        if stored:
            to_push(created)
            used.append("in_app")
    return used
