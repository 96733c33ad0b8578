"""Paying a held appointment, reading payments, and the revenue report.

POST /payments creates and confirms one PaymentIntent for exactly the appointment's fee with the
card Stripe.js tokenised. Its answer, a webhook or a later look-up settle the payment
(server/payments/settle.py); payment.completed then books the slot (server/payments/consumer.py).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

import asyncpg
import stripe

from bus import events
from server import clock
from server.audit.service import record_change
from server.auth.principal import Principal
from server.engines import Engines
from server.errors import Forbidden, InvalidInput
from server.payments.access import gateway_of, visible_payment
from server.payments.errors import (
    ADMINS_READ_REVENUE,
    ALREADY_PAID,
    CARD_DECLINED,
    CARD_UNUSABLE,
    FEE_AMOUNT,
    FEE_CURRENCY,
    FEE_DIFFERS,
    NOT_WAITING_FOR_PAYMENT,
    NOTHING_TO_PAY,
    OWN_PAYMENTS,
    PATIENT_PAYS,
    PAYMENT_UNDER_WAY,
    PREVIOUS_STILL_PROCESSING,
    PROVIDER_UNREACHABLE,
    REFUND_BY_CANCELLING,
    GatewayUnavailable,
    HoldNotOpen,
    PaymentDeclined,
)
from server.payments.events import emit_payment
from server.payments.gateway import Gateway
from server.payments.refunds import refund_payment
from server.payments.schemas import (
    CheckoutConfig,
    PaymentCreate,
    PaymentOut,
    PaymentPage,
    RefundRequest,
    RevenueDay,
    RevenueReport,
)
from server.payments.settle import settle, settle_now
from server.scheduling.access import Caller, require_party, resolve_caller
from server.scheduling.errors import BAD_RANGE, TO_BEFORE_FROM
from storage import payments as store
from storage.errors import ConstraintViolation

log = logging.getLogger(__name__)

LANGUAGES = ("en", "fr")
REQUIRES_ACTION = "requires_action"
# An attempt whose PaymentIntent creation has had no answer for this long (the SDK's timeout
# times its tries, and more) is given up; until then it may still be in flight.
UNANSWERED_AFTER = timedelta(seconds=90)


def checkout_config(engines: Engines) -> CheckoutConfig:
    gateway = gateway_of(engines)
    return CheckoutConfig(publishable_key=gateway.publishable_key, js_url=gateway.js_url)


def render_payment(
    row: asyncpg.Record, *, next_action: bool = False, client_secret: str | None = None
) -> PaymentOut:
    invoice = row["invoice_number"]
    return PaymentOut(
        **{k: row[k] for k in PaymentOut.model_fields if k in row.keys()},
        invoice_url=f"/api/v1/payments/{row['id']}/invoice" if invoice else None,
        next_action="authenticate" if next_action else None,
        client_secret=client_secret,
    )


async def get_payment(engines: Engines, principal: Principal, payment_id: uuid.UUID) -> PaymentOut:
    async with engines.pool.acquire() as con:
        _, row = await visible_payment(con, principal, payment_id)
    return render_payment(row)


async def create_payment(
    engines: Engines, principal: Principal, body: PaymentCreate, language: str
) -> PaymentOut:
    """Pay the caller's held appointment. 402 on a declined card (the payment is then
    `failed` and the patient may try another card while the hold lasts)."""
    gateway = gateway_of(engines)
    now = clock.now()
    async with engines.pool.acquire() as con:
        caller = await resolve_caller(con, principal)
        appointment = await store.appointment_to_pay(con, body.appointment_id)
        party = require_party(caller, appointment)
        assert appointment is not None
        if party != "patient":
            raise Forbidden(PATIENT_PAYS)
        _check_amount(body, appointment)
        previous = await store.live_payment(con, body.appointment_id)
    if previous is not None:
        await _close_previous_attempt(engines, gateway, previous, caller)
    if appointment["status"] != "held" or appointment["hold_expires_at"] <= now:
        raise HoldNotOpen(NOT_WAITING_FOR_PAYMENT)
    payment_id = uuid.uuid4()
    async with engines.pool.acquire() as con, con.transaction():
        try:
            await store.insert_payment(
                con,
                store.NewPayment(
                    id=payment_id,
                    appointment_id=appointment["id"],
                    patient_id=appointment["patient_id"],
                    doctor_id=appointment["doctor_id"],
                    amount=appointment["fee"],
                    currency=appointment["currency"],
                    refund_cutoff_hours=appointment["refund_cutoff_hours"],
                    late_refund_percent=appointment["late_refund_percent"],
                    language=language,
                    now=now,
                    payer_user_id=principal.user_id,
                ),
            )
        except ConstraintViolation as exc:
            raise HoldNotOpen(PAYMENT_UNDER_WAY) from exc
        row = await store.fetch_payment(con, payment_id)
        assert row is not None
        await emit_payment(con, events.PAYMENT_INITIATED, row, caller.actor)
        # Nothing is asked of Stripe unless this creation is in the audit trail (fail closed).
        await record_change(con, resource_id=payment_id)
    return await _charge(engines, gateway, row, body.payment_method, caller)


def _check_amount(body: PaymentCreate, appointment: asyncpg.Record) -> None:
    fee, currency = appointment["fee"], appointment["currency"]
    errors = []
    if body.amount is not None and body.amount != fee:
        errors.append(FEE_AMOUNT.at("amount", fee=fee))
    if body.currency is not None and body.currency.lower() != currency:
        errors.append(FEE_CURRENCY.at("currency", currency=currency))
    if errors:
        raise InvalidInput(FEE_DIFFERS, errors)
    if fee <= 0:
        raise HoldNotOpen(NOTHING_TO_PAY)


async def _close_previous_attempt(
    engines: Engines, gateway: Gateway, previous: asyncpg.Record, caller: Caller
) -> None:
    """Before a new attempt: an earlier one that succeeded meanwhile is settled (and the new
    attempt refused); one still open (3-D Secure abandoned) is cancelled and marked failed."""
    if previous["status"] == "completed":
        raise HoldNotOpen(ALREADY_PAID)
    if previous["transaction_id"] is None:
        if clock.now() - previous["created_at"] < UNANSWERED_AFTER:
            raise HoldNotOpen(PAYMENT_UNDER_WAY)
        # Its creation never got an answer (provider out of reach): give up on it. Should it
        # have gone through after all, its webhook completes it and the consumer refunds it.
        async with engines.pool.acquire() as con, con.transaction():
            row = await store.lock_payment(con, previous["id"])
            if row is not None and row["status"] == "pending" and row["transaction_id"] is None:
                await store.fail_payment(
                    con, row["id"], "no_answer", "The provider did not answer.", clock.now()
                )
                await record_change(con, resource_id=row["id"])
        return
    try:
        intent = await gateway.retrieve_intent(previous["transaction_id"])
        if intent.status not in ("succeeded", "processing", "canceled"):
            await gateway.cancel_intent(intent.id)
            intent = await gateway.retrieve_intent(intent.id)
    except stripe.APIConnectionError as exc:
        raise GatewayUnavailable(PROVIDER_UNREACHABLE) from exc
    row = await settle_now(engines.pool, intent, caller.actor)
    if row is not None and row["status"] in ("completed", "refunded"):
        raise HoldNotOpen(ALREADY_PAID)
    if row is not None and row["status"] == "pending":
        raise HoldNotOpen(PREVIOUS_STILL_PROCESSING)


async def _charge(
    engines: Engines, gateway: Gateway, row: asyncpg.Record, card: str, caller: Caller
) -> PaymentOut:
    """Create and confirm the intent; settle what it says at once."""
    metadata = {
        "appointment_id": str(row["appointment_id"]),
        "patient_id": str(row["patient_id"]),
        "doctor_id": str(row["doctor_id"]),
    }
    try:
        intent = await gateway.create_intent(
            row["id"], row["amount"], row["currency"], card, metadata
        )
    except stripe.CardError as exc:
        code = exc.code or "card_declined"
        await _fail(engines, row, code, exc.user_message, caller)
        raise PaymentDeclined(CARD_DECLINED, decline_code=code) from exc
    except stripe.InvalidRequestError as exc:
        code = exc.code or "invalid_card"
        await _fail(engines, row, code, exc.user_message, caller)
        raise PaymentDeclined(CARD_UNUSABLE, decline_code=code) from exc
    except stripe.StripeError as exc:
        # Unknown outcome (network, Stripe down): the payment stays pending; the next attempt
        # or the webhook settles it, with the same idempotency key if it is retried.
        log.warning("payment intent creation failed", extra={"error": repr(exc)})
        raise GatewayUnavailable(PROVIDER_UNREACHABLE) from exc
    async with engines.pool.acquire() as con, con.transaction():
        await store.set_intent(con, row["id"], intent.id, clock.now())
        settled, changed = await settle(con, intent, caller.actor)
        assert settled is not None
        if changed:
            failed = settled["status"] == "failed"
            await record_change(
                con, resource_id=row["id"], status=PaymentDeclined.status if failed else None
            )
    if settled["status"] == "failed":
        raise PaymentDeclined(
            CARD_DECLINED, decline_code=settled["failure_code"] or "card_declined"
        )
    needs_action = intent.status == REQUIRES_ACTION
    return render_payment(
        settled,
        next_action=needs_action,
        client_secret=intent.client_secret if settled["status"] == "pending" else None,
    )


async def _fail(
    engines: Engines, row: asyncpg.Record, code: str, message: str | None, caller: Caller
) -> None:
    async with engines.pool.acquire() as con, con.transaction():
        await store.fail_payment(con, row["id"], code, message, clock.now())
        failed = await store.fetch_payment(con, row["id"])
        assert failed is not None
        await emit_payment(con, events.PAYMENT_FAILED, failed, caller.actor)
        await record_change(con, resource_id=row["id"], status=PaymentDeclined.status)


async def list_payments(
    engines: Engines,
    principal: Principal,
    *,
    patient_id: uuid.UUID | None = None,
    doctor_id: uuid.UUID | None = None,
    appointment_id: uuid.UUID | None = None,
    limit: int,
    offset: int,
) -> PaymentPage:
    """A patient's payments (that patient or an admin) or a doctor's (that doctor or an admin)."""
    async with engines.pool.acquire() as con:
        caller = await resolve_caller(con, principal)
        allowed = principal.is_admin or (
            (patient_id is not None and patient_id == caller.patient_id)
            or (doctor_id is not None and doctor_id == caller.doctor_id)
        )
        if not allowed:
            raise Forbidden(OWN_PAYMENTS)
        rows, total = await store.list_payments(
            con,
            patient_id=patient_id,
            doctor_id=doctor_id,
            appointment_id=appointment_id,
            limit=limit,
            offset=offset,
        )
    return PaymentPage(
        items=[render_payment(r) for r in rows], total=total, limit=limit, offset=offset
    )


async def revenue(
    engines: Engines,
    principal: Principal,
    start: datetime,
    end: datetime,
    zone: str,
    doctor_id: uuid.UUID | None,
) -> RevenueReport:
    """Admins: per day in `zone` and currency, what was taken, refunded and kept."""
    if not principal.is_admin:
        raise Forbidden(ADMINS_READ_REVENUE)
    if end <= start:
        raise InvalidInput(BAD_RANGE, [TO_BEFORE_FROM.at("to", "query")])
    rows = await store.revenue_per_day(engines.pool, start, end, zone, doctor_id)
    return RevenueReport(time_zone=zone, days=[RevenueDay(**dict(r)) for r in rows])


def language_of(accept_language: str | None) -> str:
    """The invoice language: the first of ours the browser asks for, else English."""
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"


async def refund_by_request(
    engines: Engines,
    principal: Principal,
    payment_id: uuid.UUID,
    body: RefundRequest,
    idempotency_key: str | None,
) -> PaymentOut:
    """The doctor paid or an admin refunds; patients are refunded by cancelling."""
    async with engines.pool.acquire() as con:
        caller, _ = await visible_payment(con, principal, payment_id)
    if caller.patient_id is not None:
        raise Forbidden(REFUND_BY_CANCELLING)
    key = f"api:{idempotency_key or uuid.uuid4()}"
    row = await refund_payment(engines, payment_id, body.amount, body.reason, key, caller.actor)
    return render_payment(row)
