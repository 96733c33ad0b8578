"""payment.completed / payment.refunded: a receipt, to whoever paid.

A receipt belongs to the payer (`payer_user_id`: the patient in person, or the proxy who paid for
a relative), not to everyone acting for the patient; a payment with no payer on record (none
should be) goes to everyone acting, as appointment notices do.

Read by field name from the payments domain's events (its payload: appointment_id, patient_id,
amount in minor units, currency, payer_user_id, ...), so this works with whatever else that
payload carries.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import asyncpg
from babel.numbers import format_currency, get_currency_precision

from bus import events
from bus.events import Envelope
from server import clock
from server.notifications.context import template_context
from server.notifications.notifier import Outgoing, notify
from server.settings import Settings
from storage.notify.parties import Recipient, appointment_context, user_recipient

PAYMENT_TYPES = frozenset({events.PAYMENT_COMPLETED, events.PAYMENT_REFUNDED})


def amount_text(minor: int, currency: str, language: str) -> str:
    """12345 EUR in French: "123,45 €"."""
    major = Decimal(minor).scaleb(-get_currency_precision(currency))
    return format_currency(major, currency, locale="fr_FR" if language == "fr" else "en_GB")


async def apply_payment_event(
    con: asyncpg.Connection, settings: Settings, envelope: Envelope
) -> None:
    data = envelope.data
    appointment_id = data.get("appointment_id")
    if appointment_id is None:
        return
    ctx = await appointment_context(con, uuid.UUID(str(appointment_id)))
    if ctx is None:
        return
    kind = envelope.type  # the templates are named after the events
    amount = int(data["amount"]), str(data["currency"]).upper()
    payer = data.get("payer_user_id")
    if payer is None:
        recipients: tuple[Recipient, ...] = ctx.acting
    else:
        # The payer even once no longer acting (a revoked proxy): the money was theirs.
        found = await user_recipient(con, uuid.UUID(str(payer)))
        recipients = () if found is None else (found,)
    for person in recipients:
        context = {
            **template_context(settings, ctx, person),
            "amount": amount_text(*amount, person.language),
        }
        await notify(
            con,
            Outgoing(f"event:{envelope.id}", kind, person, context, appointment_id=ctx.id),
            clock.now(),
        )
