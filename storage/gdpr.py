"""What a patient's data export reads beyond the owning domains' services: their chat
messages, the audit entries about their records, and (once the payments domain lands) their
payments."""

from __future__ import annotations

import uuid

import asyncpg

# The payments domain (another branch) owns this table; its columns follow the product spec.
PAYMENTS_TABLE = "payments.payments"


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
    """The patient's payments; none until the payments domain's table exists (the seam)."""
    if await con.fetchval("SELECT to_regclass($1)", PAYMENTS_TABLE) is None:
        return []
    records: list[asyncpg.Record] = await con.fetch(
        f"""SELECT id, appointment_id, amount, currency, status, created_at
            FROM {PAYMENTS_TABLE} WHERE patient_id = $1 ORDER BY created_at""",
        patient_id,
    )
    return records
