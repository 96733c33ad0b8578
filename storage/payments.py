"""Payments queries: payments, refunds, Stripe webhook events and invoice numbers.

Amounts are integers in the currency's minor unit. Writers that change a payment's state run on
a connection inside the caller's transaction, after `lock_payment`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from storage.errors import ConstraintViolation

# The columns every payment answer shows, with its invoice when there is one.
_PAYMENT = """
SELECT p.id, p.appointment_id, p.patient_id, p.doctor_id, p.amount, p.currency, p.status,
       p.amount_refunded, p.payment_method, p.transaction_id, p.failure_code, p.failure_message,
       p.refund_cutoff_hours, p.late_refund_percent, p.language, p.created_at, p.updated_at,
       p.completed_at, i.invoice_number, p.payer_user_id
FROM payments.payments p
LEFT JOIN payments.invoices i ON i.payment_id = p.id
"""
# The default policy of appointments without a visit reason (the columns' defaults).
DEFAULT_CUTOFF_HOURS = 48
DEFAULT_LATE_PERCENT = 50
ONE_LIVE_PER_APPOINTMENT = "payments_one_live_per_appointment"


@dataclass(frozen=True)
class NewPayment:
    id: uuid.UUID
    appointment_id: uuid.UUID
    patient_id: uuid.UUID
    doctor_id: uuid.UUID
    amount: int
    currency: str
    refund_cutoff_hours: int
    late_refund_percent: int
    language: str
    now: datetime
    payer_user_id: uuid.UUID | None = None  # the account paying (the patient, or a proxy)


async def appointment_to_pay(
    con: asyncpg.Connection, appointment_id: uuid.UUID
) -> asyncpg.Record | None:
    """The appointment with its fee, hold and the cancellation policy of its visit reason."""
    return await con.fetchrow(
        """SELECT a.id, a.patient_id, a.doctor_id, lower(a.period) AS start_at, a.status,
                  a.fee, lower(a.currency) AS currency, a.hold_expires_at,
                  coalesce(r.refund_cutoff_hours, $2) AS refund_cutoff_hours,
                  coalesce(r.late_refund_percent, $3) AS late_refund_percent
           FROM scheduling.appointments a
           LEFT JOIN scheduling.visit_reasons r ON r.id = a.reason_id
           WHERE a.id = $1""",
        appointment_id,
        DEFAULT_CUTOFF_HOURS,
        DEFAULT_LATE_PERCENT,
    )


async def insert_payment(con: asyncpg.Connection, new: NewPayment) -> None:
    """Raises ConstraintViolation(ONE_LIVE_PER_APPOINTMENT) when another one is pending."""
    try:
        await con.execute(
            """INSERT INTO payments.payments
                   (id, appointment_id, patient_id, doctor_id, amount, currency, status,
                    refund_cutoff_hours, late_refund_percent, language, created_at, updated_at,
                    payer_user_id)
               VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $9, $10, $10, $11)""",
            new.id,
            new.appointment_id,
            new.patient_id,
            new.doctor_id,
            new.amount,
            new.currency,
            new.refund_cutoff_hours,
            new.late_refund_percent,
            new.language,
            new.now,
            new.payer_user_id,
        )
    except asyncpg.UniqueViolationError as exc:
        raise ConstraintViolation(exc.constraint_name or ONE_LIVE_PER_APPOINTMENT) from exc


async def fetch_payment(
    con: asyncpg.Connection | asyncpg.Pool, payment_id: uuid.UUID
) -> asyncpg.Record | None:
    return await con.fetchrow(_PAYMENT + " WHERE p.id = $1", payment_id)


async def lock_payment(con: asyncpg.Connection, payment_id: uuid.UUID) -> asyncpg.Record | None:
    await con.execute("SELECT 1 FROM payments.payments WHERE id = $1 FOR UPDATE", payment_id)
    return await fetch_payment(con, payment_id)


async def payment_id_for_intent(con: asyncpg.Connection, intent_id: str) -> uuid.UUID | None:
    found: uuid.UUID | None = await con.fetchval(
        "SELECT id FROM payments.payments WHERE transaction_id = $1", intent_id
    )
    return found


async def live_payment(con: asyncpg.Connection, appointment_id: uuid.UUID) -> asyncpg.Record | None:
    """The appointment's pending or completed payment, if any."""
    return await con.fetchrow(
        _PAYMENT + " WHERE p.appointment_id = $1 AND p.status IN ('pending', 'completed')",
        appointment_id,
    )


async def first_paid_payment_id(
    con: asyncpg.Connection, appointment_id: uuid.UUID
) -> uuid.UUID | None:
    """The appointment's first completed payment: any later one is a second charge."""
    found: uuid.UUID | None = await con.fetchval(
        """SELECT id FROM payments.payments
           WHERE appointment_id = $1 AND completed_at IS NOT NULL
           ORDER BY completed_at, id LIMIT 1""",
        appointment_id,
    )
    return found


async def paid_payment(con: asyncpg.Connection, appointment_id: uuid.UUID) -> asyncpg.Record | None:
    """The appointment's taken payment (completed, or refunded in part or whole)."""
    return await con.fetchrow(
        _PAYMENT
        + """ WHERE p.appointment_id = $1 AND p.status IN ('completed', 'refunded')
                       ORDER BY p.created_at DESC LIMIT 1""",
        appointment_id,
    )


async def set_intent(
    con: asyncpg.Connection, payment_id: uuid.UUID, intent_id: str, now: datetime
) -> None:
    await con.execute(
        "UPDATE payments.payments SET transaction_id = $2, updated_at = $3 WHERE id = $1",
        payment_id,
        intent_id,
        now,
    )


async def complete_payment(
    con: asyncpg.Connection, payment_id: uuid.UUID, payment_method: str, now: datetime
) -> None:
    await con.execute(
        """UPDATE payments.payments
           SET status = 'completed', payment_method = $2, failure_code = NULL,
               failure_message = NULL, completed_at = $3, updated_at = $3
           WHERE id = $1""",
        payment_id,
        payment_method,
        now,
    )


async def fail_payment(
    con: asyncpg.Connection,
    payment_id: uuid.UUID,
    code: str | None,
    message: str | None,
    now: datetime,
) -> None:
    await con.execute(
        """UPDATE payments.payments
           SET status = 'failed', failure_code = $2, failure_message = $3, updated_at = $4
           WHERE id = $1""",
        payment_id,
        code,
        message,
        now,
    )


async def list_payments(
    con: asyncpg.Connection | asyncpg.Pool,
    *,
    patient_id: uuid.UUID | None,
    doctor_id: uuid.UUID | None,
    appointment_id: uuid.UUID | None,
    limit: int,
    offset: int,
) -> tuple[list[asyncpg.Record], int]:
    """One page of a patient's or a doctor's payments (of one appointment, when given), newest
    first, and the total."""
    where = """ WHERE ($1::uuid IS NULL OR p.patient_id = $1)
                  AND ($2::uuid IS NULL OR p.doctor_id = $2)
                  AND ($3::uuid IS NULL OR p.appointment_id = $3)"""
    rows = await con.fetch(
        _PAYMENT + where + " ORDER BY p.created_at DESC, p.id LIMIT $4 OFFSET $5",
        patient_id,
        doctor_id,
        appointment_id,
        limit,
        offset,
    )
    total = await con.fetchval(
        "SELECT count(*) FROM payments.payments p" + where, patient_id, doctor_id, appointment_id
    )
    return list(rows), int(total)


# What a payment gave back: the refunds that went through. A refund still at Stripe already
# counts against amount_refunded (so two at once never give back more than was paid) but is no
# revenue lost yet; one Stripe refuses is given back with no event, so a figure kept from events
# (analytics.revenue_quarter) could not drop it again.
REFUNDED = """coalesce((SELECT sum(r.amount) FROM payments.refunds r
                        WHERE r.payment_id = p.id AND r.status = 'succeeded'), 0)"""


async def revenue_per_day(
    con: asyncpg.Connection | asyncpg.Pool,
    start: datetime,
    end: datetime,
    zone: str,
    doctor_id: uuid.UUID | None,
) -> list[asyncpg.Record]:
    """Per day (in `zone`) and currency: payments taken, gross, refunded and net amounts of
    the payments completed in [start, end)."""
    return list(
        await con.fetch(
            f"""SELECT (p.completed_at AT TIME ZONE $3)::date AS day, p.currency,
                      count(*) AS payments, sum(p.amount) AS gross,
                      sum({REFUNDED})::bigint AS refunded,
                      sum(p.amount - {REFUNDED})::bigint AS net
               FROM payments.payments p
               WHERE p.completed_at >= $1 AND p.completed_at < $2
                 AND ($4::uuid IS NULL OR p.doctor_id = $4)
               GROUP BY 1, 2 ORDER BY 1, 2""",
            start,
            end,
            zone,
            doctor_id,
        )
    )


# Refunds


# A refund with what asking Stripe about it needs (its payment's PaymentIntent).
_REFUND = """
SELECT r.id, r.payment_id, r.amount, r.reason, r.status, r.stripe_refund_id, r.created_by,
       r.created_at, p.transaction_id
FROM payments.refunds r
JOIN payments.payments p ON p.id = r.payment_id
"""


async def refund_by_key(
    con: asyncpg.Connection, payment_id: uuid.UUID, request_key: str
) -> asyncpg.Record | None:
    return await con.fetchrow(
        _REFUND + " WHERE r.payment_id = $1 AND r.request_key = $2", payment_id, request_key
    )


async def fetch_refund(con: asyncpg.Connection, refund_id: uuid.UUID) -> asyncpg.Record | None:
    return await con.fetchrow(_REFUND + " WHERE r.id = $1", refund_id)


async def pending_refunds(
    con: asyncpg.Connection | asyncpg.Pool, before: datetime, limit: int
) -> list[asyncpg.Record]:
    """Refunds still pending that were reserved before `before`, oldest first."""
    return list(
        await con.fetch(
            _REFUND
            + """ WHERE r.status = 'pending' AND r.created_at < $1
                          ORDER BY r.created_at, r.id LIMIT $2""",
            before,
            limit,
        )
    )


async def reserve_refund(
    con: asyncpg.Connection,
    refund_id: uuid.UUID,
    payment_id: uuid.UUID,
    amount: int,
    reason: str,
    request_key: str,
    created_by: str | None,
    now: datetime,
) -> None:
    """Record a pending refund and count it against the payment before Stripe is asked, so two
    refunds at once can never give back more than was paid."""
    await con.execute(
        """INSERT INTO payments.refunds
               (id, payment_id, amount, reason, request_key, status, created_by, created_at)
           VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7)""",
        refund_id,
        payment_id,
        amount,
        reason,
        request_key,
        created_by,
        now,
    )
    await con.execute(
        """UPDATE payments.payments SET amount_refunded = amount_refunded + $2, updated_at = $3
           WHERE id = $1""",
        payment_id,
        amount,
        now,
    )


async def settle_refund(
    con: asyncpg.Connection, refund_id: uuid.UUID, stripe_refund_id: str, now: datetime
) -> bool:
    """The refund went through; a payment refunded in full becomes `refunded`. False (nothing
    changed) unless the refund was pending: each refund settles once."""
    payment_id = await con.fetchval(
        """UPDATE payments.refunds SET status = 'succeeded', stripe_refund_id = $2
           WHERE id = $1 AND status = 'pending' RETURNING payment_id""",
        refund_id,
        stripe_refund_id,
    )
    if payment_id is None:
        return False
    await con.execute(
        """UPDATE payments.payments
           SET status = CASE WHEN amount_refunded = amount THEN 'refunded' ELSE status END,
               updated_at = $2
           WHERE id = $1""",
        payment_id,
        now,
    )
    return True


async def drop_refund(con: asyncpg.Connection, refund_id: uuid.UUID, now: datetime) -> bool:
    """Stripe refused the refund: it no longer counts against the payment. False (nothing
    changed) unless the refund was pending."""
    row = await con.fetchrow(
        """UPDATE payments.refunds SET status = 'failed' WHERE id = $1 AND status = 'pending'
           RETURNING payment_id, amount""",
        refund_id,
    )
    if row is None:
        return False
    await con.execute(
        """UPDATE payments.payments SET amount_refunded = amount_refunded - $2, updated_at = $3
           WHERE id = $1""",
        row["payment_id"],
        row["amount"],
        now,
    )
    return True


# Webhooks


async def record_webhook_event(
    con: asyncpg.Connection, event_id: str, event_type: str, now: datetime
) -> bool:
    """True the first time this Stripe event id is seen."""
    inserted = await con.fetchval(
        """INSERT INTO payments.webhook_events (id, type, received_at) VALUES ($1, $2, $3)
           ON CONFLICT DO NOTHING RETURNING true""",
        event_id,
        event_type,
        now,
    )
    return bool(inserted)


# Invoices


async def number_invoice(
    con: asyncpg.Connection, payment_id: uuid.UUID, doctor_id: uuid.UUID, now: datetime, zone: str
) -> str:
    """Give the payment the practice's next invoice number of the year (in its zone), in the
    caller's transaction: a rollback gives the number back, so the sequence has no gap."""
    year = await con.fetchval(
        "SELECT extract(year FROM $1::timestamptz AT TIME ZONE $2)::int", now, zone
    )
    seq = await con.fetchval(
        """INSERT INTO payments.invoice_counters AS c (doctor_id, year, last) VALUES ($1, $2, 1)
           ON CONFLICT (doctor_id, year) DO UPDATE SET last = c.last + 1
           RETURNING last""",
        doctor_id,
        year,
    )
    number = f"{year}-{doctor_id.hex[:8].upper()}-{seq:05d}"
    await con.execute(
        """INSERT INTO payments.invoices (id, payment_id, doctor_id, year, seq, invoice_number,
                                          created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        uuid.uuid4(),
        payment_id,
        doctor_id,
        year,
        seq,
        number,
        now,
    )
    return number


async def invoice_details(
    con: asyncpg.Connection | asyncpg.Pool, payment_id: uuid.UUID
) -> asyncpg.Record | None:
    """What an invoice prints: parties, service, amounts, reference and number."""
    return await con.fetchrow(
        """SELECT p.id, p.amount, p.currency, p.amount_refunded, p.transaction_id,
                  p.payment_method, p.language, p.completed_at, i.invoice_number, i.created_at
                  AS issued_at, pt.first_name AS patient_first_name,
                  pt.last_name AS patient_last_name, d.first_name AS doctor_first_name,
                  d.last_name AS doctor_last_name, d.address_line, d.city, d.time_zone,
                  a.visit_type, lower(a.period) AS start_at, r.name AS reason_name
           FROM payments.payments p
           JOIN payments.invoices i ON i.payment_id = p.id
           JOIN patients.patients pt ON pt.id = p.patient_id
           JOIN doctors.doctors d ON d.id = p.doctor_id
           JOIN scheduling.appointments a ON a.id = p.appointment_id
           LEFT JOIN scheduling.visit_reasons r ON r.id = a.reason_id
           WHERE p.id = $1""",
        payment_id,
    )


async def doctor_zone(con: asyncpg.Connection, doctor_id: uuid.UUID) -> str:
    zone: str = await con.fetchval("SELECT time_zone FROM doctors.doctors WHERE id = $1", doctor_id)
    return zone
