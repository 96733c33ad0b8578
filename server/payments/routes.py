"""HTTP routes of payments (PRODUCT-SPEC 5.8); rules live in server.payments.service."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from server.audit.service import AUDITED, record_access
from server.auth.principal import CurrentPrincipal
from server.deps import EnginesDep
from server.doctors.schemas import UNKNOWN_ZONE, time_zones
from server.errors import FIELDS_INVALID, InvalidInput, NotFound
from server.instants import Instant
from server.payments import service
from server.payments.access import gateway_of, visible_payment
from server.payments.errors import NO_INVOICE
from server.payments.invoices import render_invoice
from server.payments.schemas import (
    CheckoutConfig,
    PaymentCreate,
    PaymentOut,
    PaymentPage,
    RefundRequest,
    RevenueReport,
)
from server.payments.webhooks import handle_webhook
from server.problems import problem_responses
from storage import payments as store


def _payments_on(engines: EnginesDep) -> None:
    """Every payment route answers 409 on a server without payments."""
    gateway_of(engines)


router = APIRouter(
    prefix="/api/v1/payments", tags=["payments"], dependencies=[Depends(_payments_on)]
)

_R: dict[int, str] = {
    400: "Missing, wrong or too old Stripe-Signature.",
    401: "Not signed in.",
    402: "The card was declined or cannot be used (`decline_code`: Stripe's code); the payment "
    "is `failed` and another card may be tried while the hold lasts.",
    403: "The caller's role does not allow this.",
    404: "No such payment / appointment, or not visible to the caller.",
    409: "Payments are off on this server; nothing to pay (hold expired, already paid, a payment "
    "under way); or a refund refused (`left`: what can still be refunded).",
    422: "Invalid input; `errors` lists each field (an amount other than the fee included).",
    503: "The payment provider cannot be reached (`provider-unreachable`), or the change could "
    "not be recorded in the audit trail (`audit-unavailable`): nothing was done; try again.",
}


def _pick(*codes: int) -> dict[int | str, dict[str, Any]]:
    return problem_responses(_R, *codes)


@router.get(
    "/config",
    response_model=CheckoutConfig,
    summary="What the checkout page loads (Stripe.js URL and publishable key)",
    responses=_pick(409),
)
async def checkout_config(engines: EnginesDep) -> CheckoutConfig:
    return service.checkout_config(engines)


@router.post(
    "",
    response_model=PaymentOut,
    status_code=201,
    summary="Pay a held appointment (creates and confirms a Stripe PaymentIntent)",
    description=(
        "The patient of a held appointment pays exactly its fee with a card Stripe.js tokenised."
        " `status` completed: paid (the slot is booked through payment.completed); pending with"
        " `next_action` authenticate: finish 3-D Secure with Stripe.js and `client_secret`,"
        " then watch GET /payments/{id}."
    ),
    responses=_pick(401, 402, 403, 404, 409, 422, 503),
)
async def create_payment(
    body: PaymentCreate,
    principal: CurrentPrincipal,
    engines: EnginesDep,
    accept_language: str | None = Header(None),
) -> PaymentOut:
    language = body.language or service.language_of(accept_language)
    return await service.create_payment(engines, principal, body, language)


@router.post(
    "/webhook",
    status_code=204,
    summary="Stripe webhook (signed events)",
    description=(
        "Stripe's signed events (Stripe-Signature, checked with the SDK within the tolerance)."
        " Each event id is applied once; duplicates and old news answer 204 and change nothing."
    ),
    responses=_pick(400, 409),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def stripe_webhook(
    request: Request,
    engines: EnginesDep,
    stripe_signature: str | None = Header(None),
) -> Response:
    await handle_webhook(engines, await request.body(), stripe_signature)
    return Response(status_code=204)


@router.get(
    "/revenue",
    response_model=RevenueReport,
    summary="Revenue per day and currency (admins)",
    responses=_pick(401, 403, 409, 422),
)
async def revenue(
    principal: CurrentPrincipal,
    engines: EnginesDep,
    from_: Annotated[Instant, Query(alias="from")],
    to: Instant,
    time_zone: str = Query("UTC", pattern=r"^[A-Za-z_]+(/[A-Za-z0-9_+-]+){0,2}$"),
    doctor_id: uuid.UUID | None = None,
) -> RevenueReport:
    return await service.revenue(engines, principal, from_, to, _zone(time_zone), doctor_id)


def _zone(name: str) -> str:
    # The analytics' list (its revenue per day must equal this): zoneinfo files that are no
    # IANA zone ("localtime", "posixrules", "right/...") differ per machine or from PostgreSQL.
    if name != "UTC" and name not in time_zones():
        raise InvalidInput(FIELDS_INVALID, [UNKNOWN_ZONE.at("time_zone", "query")])
    return name


@dataclass(frozen=True)
class Paging:
    limit: int = Query(20, ge=1, le=100)
    offset: int = Query(0, ge=0, le=100_000)
    appointment_id: uuid.UUID | None = Query(None, description="Only this appointment's.")


PagingDep = Annotated[Paging, Depends()]


@router.get(
    "/patient/{patient_id}",
    response_model=PaymentPage,
    summary="A patient's payments, newest first (that patient or an admin)",
    responses=_pick(401, 403, 409, 422),
)
async def patient_payments(
    patient_id: uuid.UUID, page: PagingDep, principal: CurrentPrincipal, engines: EnginesDep
) -> PaymentPage:
    return await service.list_payments(engines, principal, patient_id=patient_id, **asdict(page))


@router.get(
    "/doctor/{doctor_id}",
    response_model=PaymentPage,
    summary="A doctor's payments, newest first (that doctor or an admin)",
    responses=_pick(401, 403, 409, 422),
)
async def doctor_payments(
    doctor_id: uuid.UUID, page: PagingDep, principal: CurrentPrincipal, engines: EnginesDep
) -> PaymentPage:
    return await service.list_payments(engines, principal, doctor_id=doctor_id, **asdict(page))


@router.get(
    "/{payment_id}",
    response_model=PaymentOut,
    summary="One payment (its patient, its doctor or an admin)",
    responses=_pick(401, 404, 409, 422),
)
async def get_payment(
    payment_id: uuid.UUID, principal: CurrentPrincipal, engines: EnginesDep
) -> PaymentOut:
    return await service.get_payment(engines, principal, payment_id)


@router.post(
    "/{payment_id}/refund",
    response_model=PaymentOut,
    summary="Refund a payment in full or in part (its doctor or an admin)",
    description=(
        "Patients are refunded by cancelling (the visit reason's policy applies). Send an"
        " Idempotency-Key: a retried request then refunds once. A 503 `provider-unreachable`"
        " leaves the refund reserved (`pending`, counted in `amount_refunded`): Stripe may have"
        " made it. A retry with the same key asks Stripe again and settles it (200) or drops it"
        " (409); otherwise Stripe's refund webhook or the refund sweep (after 5 minutes) does."
    ),
    responses=_pick(401, 403, 404, 409, 422, 503),
)
async def refund(
    payment_id: uuid.UUID,
    body: RefundRequest,
    principal: CurrentPrincipal,
    engines: EnginesDep,
    idempotency_key: str | None = Header(None),
) -> PaymentOut:
    return await service.refund_by_request(engines, principal, payment_id, body, idempotency_key)


@router.get(
    "/{payment_id}/invoice",
    summary="The invoice PDF of a completed payment (its patient, its doctor or an admin)",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
        **_pick(401, 404, 409, 422),
        **AUDITED,
    },
)
async def invoice(
    payment_id: uuid.UUID, request: Request, principal: CurrentPrincipal, engines: EnginesDep
) -> Response:
    async with engines.pool.acquire() as con:
        try:
            await visible_payment(con, principal, payment_id)
        except NotFound:
            await record_access(
                con,
                principal=principal,
                action="invoice.download_refused",
                resource_type="payment",
                resource_id=payment_id,
                status=404,
                request=request,
            )
            raise
        details = await store.invoice_details(con, payment_id)
        if details is None:
            raise NotFound(NO_INVOICE)
        await record_access(
            con,
            principal=principal,
            action="invoice.download",
            resource_type="invoice",
            resource_id=details["invoice_number"],
            request=request,
        )
    pdf = render_invoice(details, engines.settings.invoice_tax_percent)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{details["invoice_number"]}.pdf"'},
    )
