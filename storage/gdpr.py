"""What a patient's data export reads beyond the owning domains' services: their chat
messages, the audit entries about their records, their payments and their notifications."""

from __future__ import annotations

import uuid

import asyncpg


async def messages_of(
    con: asyncpg.Connection, appointment_ids: list[uuid.UUID]
) -> list[asyncpg.Record]:
    """Chat messages of these appointments, oldest first (bodies still encrypted)."""
    records: list[asyncpg.Record] = await con.fetch(
        """SELECT appointment_id, sender_user_id, body, created_at, read_at
           FROM chat.messages WHERE appointment_id = ANY($1::uuid[])
           ORDER BY appointment_id, seq""",
        appointment_ids,
    )
    return records


async def accesses_to(
    con: asyncpg.Connection, resource_ids: list[str], limit: int
) -> list[asyncpg.Record]:
    """Audit entries about these resources, oldest first: who (user id, role), what, when, how
    it ended."""
    records: list[asyncpg.Record] = await con.fetch(
        """SELECT occurred_at, user_id, role, action, resource_type, response_status
           FROM audit.logs WHERE resource_id = ANY($1::text[])
           ORDER BY append_id LIMIT $2""",
        resource_ids,
        limit,
    )
    return records


async def payments_of(con: asyncpg.Connection, patient_id: uuid.UUID) -> list[asyncpg.Record]:
    """The patient's payments, oldest first: amounts in minor units, `amount_refunded` so far,
    status (`pending`, `completed`, `failed`, `refunded` = in full), invoice number if any."""
    records: list[asyncpg.Record] = await con.fetch(
        """SELECT p.id, p.appointment_id, p.amount, p.amount_refunded, p.currency, p.status,
                  p.payment_method, i.invoice_number, p.created_at, p.completed_at
           FROM payments.payments p LEFT JOIN payments.invoices i ON i.payment_id = p.id
           WHERE p.patient_id = $1 ORDER BY p.created_at, p.id""",
        patient_id,
    )
    return records


async def notifications_of(
    con: asyncpg.Connection, user_id: uuid.UUID
) -> tuple[list[asyncpg.Record], list[asyncpg.Record]]:
    """The user's email/SMS messages (what was sent where, and whether it went) and in-app
    notifications, oldest first."""
    sent: list[asyncpg.Record] = await con.fetch(
        """SELECT kind, channel, recipient, subject, body, status, created_at, sent_at
           FROM notify.messages WHERE user_id = $1 ORDER BY created_at, id""",
        user_id,
    )
    in_app: list[asyncpg.Record] = await con.fetch(
        """SELECT kind, title, body, created_at, read_at
           FROM notify.in_app WHERE user_id = $1 ORDER BY created_at, id""",
        user_id,
    )
    return sent, in_app
