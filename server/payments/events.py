"""payment.initiated / completed / failed / refunded: one payload, written to the outbox."""

from __future__ import annotations

import uuid

import asyncpg
from pydantic import BaseModel, ConfigDict

from bus import events
from bus.events import register_payload
from bus.outbox import emit
from server import clock


class PaymentChanged(BaseModel):
    """Amounts in the currency's minor unit. `refund_amount` and `refund_reason` only on
    payment.refunded (this refund; `amount_refunded` is the running total); `failure_code` and
    `failure_message` only on payment.failed. `payer_user_id`: the account that paid (the
    patient in person or a proxy; its receipts go to it alone), null when unknown."""

    model_config = ConfigDict(extra="forbid")

    payment_id: uuid.UUID
    appointment_id: uuid.UUID
    patient_id: uuid.UUID
    doctor_id: uuid.UUID
    amount: int
    currency: str
    status: str
    amount_refunded: int
    transaction_id: str | None
    payment_method: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    refund_amount: int | None = None
    refund_reason: str | None = None
    invoice_number: str | None = None
    payer_user_id: uuid.UUID | None = None


PAYMENT_EVENTS = (
    events.PAYMENT_INITIATED,
    events.PAYMENT_COMPLETED,
    events.PAYMENT_FAILED,
    events.PAYMENT_REFUNDED,
)
for _type in PAYMENT_EVENTS:
    register_payload(_type, PaymentChanged)


async def emit_payment(
    con: asyncpg.Connection,
    event_type: str,
    row: asyncpg.Record,
    actor: str | None,
    *,
    refund_amount: int | None = None,
    refund_reason: str | None = None,
) -> None:
    """Write the event for the payment `row` (as stored after the change) to the outbox."""
    payload = PaymentChanged(
        payment_id=row["id"],
        appointment_id=row["appointment_id"],
        patient_id=row["patient_id"],
        doctor_id=row["doctor_id"],
        amount=row["amount"],
        currency=row["currency"],
        status=row["status"],
        amount_refunded=row["amount_refunded"],
        transaction_id=row["transaction_id"],
        payment_method=row["payment_method"],
        failure_code=row["failure_code"],
        failure_message=row["failure_message"],
        refund_amount=refund_amount,
        refund_reason=refund_reason,
        invoice_number=row["invoice_number"],
        payer_user_id=row["payer_user_id"],
    )
    await emit(con, event_type, f"payment:{row['id']}", payload, actor=actor, at=clock.now())
