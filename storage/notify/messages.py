"""The delivery log (notify.messages) and the dev mailbox that stands in for SMTP / Twilio."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg

from storage.notify import Db

Channel = Literal["email", "sms"]


@dataclass(frozen=True)
class NewMessage:
    # "<cause>:<user>:<channel>": one message per cause, recipient and channel; an SMS's is
    # "<cause>:sms:<number>" (one text per number, shared phones included)
    dedup_key: str
    user_id: uuid.UUID | None
    kind: str
    channel: Channel
    recipient: str
    subject: str | None
    body: str
    calendar: str | None = None
    appointment_id: uuid.UUID | None = None
    reference: str | None = None  # SMS reminders: the code a reply names


@dataclass(frozen=True)
class Message:
    id: uuid.UUID
    kind: str
    channel: Channel
    recipient: str
    subject: str | None
    body: str
    calendar: str | None
    attempts: int


_COLUMNS = "id, kind, channel, recipient, subject, body, calendar, attempts"


async def queue_message(db: Db, message: NewMessage, now: datetime) -> bool:
    """Queue one message; False when its dedup key was queued before (a redelivery)."""
    inserted = await db.fetchval(
        """INSERT INTO notify.messages (dedup_key, user_id, kind, channel, recipient, subject,
                                        body, calendar, appointment_id, reference,
                                        next_attempt_at, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $11, $10, $10)
           ON CONFLICT (dedup_key) DO NOTHING RETURNING true""",
        message.dedup_key,
        message.user_id,
        message.kind,
        message.channel,
        message.recipient,
        message.subject,
        message.body,
        message.calendar,
        message.appointment_id,
        now,
        message.reference,
    )
    return bool(inserted)


async def claim_due(con: asyncpg.Connection, now: datetime, limit: int) -> list[Message]:
    """Mark up to `limit` due messages 'sending' (one attempt more) and return them.

    Committed before the provider is called: a worker that dies after this leaves them in
    'sending', which `give_up_stale` later turns into 'unconfirmed', never into a resend.
    """
    rows = await con.fetch(
        f"""WITH due AS (
               SELECT id FROM notify.messages
               WHERE status = 'queued' AND next_attempt_at <= $1
               ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED)
           UPDATE notify.messages m SET status = 'sending', claimed_at = $1,
                                        attempts = attempts + 1
           FROM due WHERE m.id = due.id
           RETURNING {", ".join("m." + c for c in _COLUMNS.split(", "))}""",
        now,
        limit,
    )
    return [Message(**dict(r)) for r in rows]


# What a security message's body (a sign-in code) becomes once handed over or given up.
REDACTED = "(redacted after sending: it held a sign-in code)"


async def mark_sent(
    db: Db, message_id: uuid.UUID, provider_id: str | None, now: datetime, redact: bool = False
) -> None:
    await db.execute(
        """UPDATE notify.messages SET status = 'sent', provider_id = $2, sent_at = $3,
                                      last_error = NULL,
                                      body = CASE WHEN $4 THEN $5 ELSE body END
           WHERE id = $1""",
        message_id,
        provider_id,
        now,
        redact,
        REDACTED,
    )


async def mark_retry(db: Db, message_id: uuid.UUID, error: str, retry_at: datetime) -> None:
    await db.execute(
        """UPDATE notify.messages SET status = 'queued', last_error = $2, next_attempt_at = $3
           WHERE id = $1""",
        message_id,
        error,
        retry_at,
    )


async def mark_failed(db: Db, message_id: uuid.UUID, error: str, redact: bool = False) -> None:
    await db.execute(
        """UPDATE notify.messages SET status = 'failed', last_error = $2,
                                      body = CASE WHEN $3 THEN $4 ELSE body END
           WHERE id = $1""",
        message_id,
        error,
        redact,
        REDACTED,
    )


async def give_up_stale(
    db: Db, claimed_before: datetime, secret_kinds: Sequence[str]
) -> list[uuid.UUID]:
    """'sending' rows whose worker vanished: possibly sent, so never sent again (the bodies of
    `secret_kinds` are redacted as if sent)."""
    rows = await db.fetch(
        """UPDATE notify.messages
           SET status = 'unconfirmed',
               last_error = 'worker stopped between handing over and recording: possibly sent',
               body = CASE WHEN kind = ANY($2) THEN $3 ELSE body END
           WHERE status = 'sending' AND claimed_at < $1 RETURNING id""",
        claimed_before,
        list(secret_kinds),
        REDACTED,
    )
    return [r["id"] for r in rows]


async def deliver_to_dev_mailbox(con: asyncpg.Connection, message: Message, now: datetime) -> None:
    await con.execute(
        """INSERT INTO notify.dev_mailbox (message_id, kind, channel, recipient, subject, body,
                                           calendar, received_at)
           VALUES ($1, $8, $2, $3, $4, $5, $6, $7) ON CONFLICT (message_id) DO NOTHING""",
        message.id,
        message.channel,
        message.recipient,
        message.subject,
        message.body,
        message.calendar,
        now,
        message.kind,
    )


async def dev_mailbox(db: Db, channel: Channel | None, limit: int) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await db.fetch(
        """SELECT id, kind, channel, recipient, subject, body, calendar, received_at
           FROM notify.dev_mailbox
           WHERE $1::text IS NULL OR channel = $1
           ORDER BY received_at DESC, id LIMIT $2""",
        channel,
        limit,
    )
    return rows


async def delivery_log(db: Db, appointment_id: uuid.UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await db.fetch(
        """SELECT id, kind, channel, recipient, status, attempts, provider_id, last_error,
                  created_at, sent_at
           FROM notify.messages WHERE appointment_id = $1 ORDER BY created_at, id""",
        appointment_id,
    )
    return rows


async def latest_sms_reminder(db: Db, phone: str, reference: str | None) -> asyncpg.Record | None:
    """The newest reminder sent by SMS to `phone` (with that reference, when one is given)."""
    row: asyncpg.Record | None = await db.fetchrow(
        """SELECT id, appointment_id, user_id, reference FROM notify.messages
           WHERE channel = 'sms' AND recipient = $1 AND reference IS NOT NULL
             AND status IN ('sent', 'unconfirmed', 'sending')
             AND ($2::text IS NULL OR reference = $2)
           ORDER BY created_at DESC LIMIT 1""",
        phone,
        reference,
    )
    return row


async def next_sequence(con: asyncpg.Connection, appointment_id: uuid.UUID) -> int:
    """The iCalendar SEQUENCE of the appointment's next update (0 the first time)."""
    sequence: int = await con.fetchval(
        """INSERT INTO notify.calendar_sequences (appointment_id) VALUES ($1)
           ON CONFLICT (appointment_id)
           DO UPDATE SET sequence = notify.calendar_sequences.sequence + 1
           RETURNING sequence""",
        appointment_id,
    )
    return sequence


async def sms_answer(db: Db, message_sid: str) -> str | None:
    answer: str | None = await db.fetchval(
        "SELECT answer FROM notify.sms_replies WHERE message_sid = $1", message_sid
    )
    return answer


async def record_sms_answer(
    con: asyncpg.Connection, message_sid: str, answer: str, now: datetime
) -> str | None:
    """Record the answer to an inbound SMS: None once recorded, else the answer recorded first
    (by a racing retry: the INSERT waits for its transaction, and reads it once it committed)."""
    recorded = await con.fetchval(
        """INSERT INTO notify.sms_replies (message_sid, answer, received_at)
           VALUES ($1, $2, $3) ON CONFLICT (message_sid) DO NOTHING RETURNING true""",
        message_sid,
        answer,
        now,
    )
    return None if recorded else await sms_answer(con, message_sid)
