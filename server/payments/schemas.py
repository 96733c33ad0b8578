"""HTTP shapes of payments, refunds and revenue (amounts in the currency's minor unit)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

PaymentStatus = Literal["pending", "completed", "failed", "refunded"]
NextAction = Literal["authenticate"]


class PaymentCreate(BaseModel):
    """Money is a strict integer of minor units: "1" or 1.0 is a 422, never coerced."""

    model_config = ConfigDict(extra="forbid")

    appointment_id: uuid.UUID
    payment_method: str = Field(
        min_length=4,
        max_length=255,
        pattern=r"^(tok|card|pm)_[A-Za-z0-9_]+$",
        description="The card as Stripe.js tokenised it: a token (tok_...), card or "
        "PaymentMethod id.",
    )
    amount: StrictInt | None = Field(
        default=None,
        ge=0,
        le=100_000_000,
        description="Optional: what the page shows; a value other than the server's fee is a 422.",
    )
    currency: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$")
    language: Literal["en", "fr"] | None = Field(
        default=None, description="Of the invoice; default: from Accept-Language, else English."
    )


class RefundRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: StrictInt | None = Field(
        default=None, gt=0, le=100_000_000, description="Minor units; default: all that is left."
    )
    reason: str = Field(default="requested", min_length=1, max_length=200)


class PaymentOut(BaseModel):
    id: uuid.UUID
    appointment_id: uuid.UUID
    patient_id: uuid.UUID
    doctor_id: uuid.UUID
    amount: int
    currency: str = Field(description="ISO 4217, lower case (Stripe's form).")
    status: PaymentStatus
    amount_refunded: int
    payment_method: str | None
    transaction_id: str | None = Field(description="The Stripe PaymentIntent id.")
    failure_code: str | None
    failure_message: str | None
    refund_cutoff_hours: int = Field(
        description="A patient cancelling earlier than this before the visit is refunded in full."
    )
    late_refund_percent: int = Field(description="Share refunded to a later patient cancellation.")
    invoice_number: str | None
    invoice_url: str | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    next_action: NextAction | None = Field(
        default=None, description="`authenticate`: the card asks for 3-D Secure (Stripe.js)."
    )
    client_secret: str | None = Field(
        default=None,
        description="Only in the payer's answer to POST /payments, for Stripe.js (3-D Secure).",
    )


class PaymentPage(BaseModel):
    items: list[PaymentOut]
    total: int
    limit: int
    offset: int


class CheckoutConfig(BaseModel):
    """What the checkout page loads: Stripe.js (or localstripe's stand-in) and its key."""

    publishable_key: str
    js_url: str


class RevenueDay(BaseModel):
    day: date
    currency: str
    payments: int
    gross: int
    refunded: int = Field(
        description="Minor units: the refunds that went through (not one still at Stripe)"
    )
    net: int


class RevenueReport(BaseModel):
    time_zone: str
    days: list[RevenueDay]
