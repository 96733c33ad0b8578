"""The one gateway code: Stripe's official SDK on its async aiohttp client.

Stripe itself when a secret key is set, else a localstripe server (the same API on loopback,
server/payments/embedded.py). Every creating call carries an idempotency key derived from our
own row id, so a retried call never makes a second PaymentIntent or refund.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import stripe

from server.payments.embedded import LOCAL_PUBLISHABLE_KEY, LOCAL_SECRET_KEY, embedded_localstripe
from server.settings import Settings

log = logging.getLogger(__name__)

STRIPE_JS = "https://js.stripe.com/v3/"
# Stripe.js talks to these from the page (CSP connect-src / frame-src).
STRIPE_ORIGINS = ("https://js.stripe.com", "https://api.stripe.com", "https://hooks.stripe.com")
# Network errors and 409 "idempotency key in use" are retried by the SDK with the same key.
NETWORK_RETRIES = 2
TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Intent:
    """What we need of a PaymentIntent (`status` is Stripe's)."""

    id: str
    status: str
    amount: int
    currency: str
    payment_id: uuid.UUID | None  # our metadata
    client_secret: str | None
    failure_code: str | None
    failure_message: str | None


def intent_of(obj: Any) -> Intent:
    """An Intent from a StripeObject (an API answer or a webhook's `data.object`)."""
    if isinstance(obj, stripe.StripeObject):
        obj = obj.to_dict()
    metadata = obj.get("metadata") or {}
    error = obj.get("last_payment_error") or {}
    try:
        payment_id = uuid.UUID(str(metadata.get("payment_id")))
    except ValueError:
        payment_id = None
    return Intent(
        id=str(obj["id"]),
        status=str(obj["status"]),
        amount=int(obj["amount"]),
        currency=str(obj["currency"]).lower(),
        payment_id=payment_id,
        client_secret=obj.get("client_secret"),
        failure_code=error.get("code"),
        failure_message=error.get("message"),
    )


@dataclass(frozen=True)
class StripeRefund:
    """What we need of a Stripe refund (`status` is Stripe's: pending, requires_action,
    succeeded, failed or canceled)."""

    id: str
    status: str
    refund_id: uuid.UUID | None  # our metadata: the refund of ours it was made for

    @property
    def refused(self) -> bool:
        return self.status in ("failed", "canceled")


def refund_of(obj: Any) -> StripeRefund:
    """A StripeRefund from a StripeObject (an API answer or a webhook's `data.object`)."""
    if isinstance(obj, stripe.StripeObject):
        obj = obj.to_dict()
    try:
        refund_id = uuid.UUID(str((obj.get("metadata") or {}).get("refund_id")))
    except ValueError:
        refund_id = None
    return StripeRefund(id=str(obj["id"]), status=str(obj["status"]), refund_id=refund_id)


class Gateway:
    """PaymentIntents, refunds and webhook signatures; one per node, opened by the lifespan."""

    def __init__(
        self,
        client: stripe.StripeClient,
        webhook_secret: str,
        publishable_key: str,
        js_url: str,
        page_origins: tuple[str, ...],
        tolerance_s: int,
    ) -> None:
        self.client = client
        self.webhook_secret = webhook_secret
        self.publishable_key = publishable_key
        self.js_url = js_url
        self.page_origins = page_origins
        self.tolerance_s = tolerance_s

    async def create_intent(
        self,
        payment_id: uuid.UUID,
        amount: int,
        currency: str,
        payment_method: str,
        metadata: dict[str, str],
    ) -> Intent:
        """Create and confirm at once with the card the browser tokenised (tok_/card_/pm_).

        Raises stripe.CardError on a decline, stripe.InvalidRequestError on an unusable card.
        """
        if payment_method.startswith("tok_"):
            token = await self.client.v1.tokens.retrieve_async(payment_method)
            if token.card is None:
                raise stripe.InvalidRequestError("Not a card token.", "payment_method")  # type: ignore[no-untyped-call]
            payment_method = token.card.id
        intent = await self.client.v1.payment_intents.create_async(
            {
                "amount": amount,
                "currency": currency,
                "payment_method": payment_method,
                "confirm": True,
                "metadata": {"payment_id": str(payment_id), **metadata},
            },
            {"idempotency_key": f"payment-intent-{payment_id}"},
        )
        return intent_of(intent)

    async def retrieve_intent(self, intent_id: str) -> Intent:
        return intent_of(await self.client.v1.payment_intents.retrieve_async(intent_id))

    async def cancel_intent(self, intent_id: str) -> None:
        await self.client.v1.payment_intents.cancel_async(intent_id)

    async def refund(
        self, refund_id: uuid.UUID, intent_id: str, amount: int, payment_id: uuid.UUID
    ) -> StripeRefund:
        """Refund `amount` minor units of the intent (Stripe answers a repeat of one refund_id
        with the refund it made then)."""
        refund = await self.client.v1.refunds.create_async(
            {
                "payment_intent": intent_id,
                "amount": amount,
                "metadata": {"payment_id": str(payment_id), "refund_id": str(refund_id)},
            },
            {"idempotency_key": f"refund-{refund_id}"},
        )
        return refund_of(refund)

    async def find_refund(self, intent_id: str, refund_id: uuid.UUID) -> StripeRefund | None:
        """The intent's refund made for our `refund_id` (its metadata), if Stripe made one.
        Asked before a repeat: Stripe forgets idempotency keys after 24 hours."""
        page = await self.client.v1.refunds.list_async({"payment_intent": intent_id, "limit": 100})
        async for refund in page.auto_paging_iter():
            found = refund_of(refund)
            if found.refund_id == refund_id:
                return found
        return None

    def verify_event(self, payload: bytes, signature: str) -> stripe.Event:
        """The event, if Stripe-Signature is valid and recent; raises ValueError or
        stripe.SignatureVerificationError otherwise (the SDK's own check)."""
        event: stripe.Event = stripe.Webhook.construct_event(
            payload, signature, self.webhook_secret, tolerance=self.tolerance_s
        )
        return event


def _client(api_key: str, api_base: str | None, http: stripe.HTTPClient) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else {},
        http_client=http,
        max_network_retries=NETWORK_RETRIES,
    )


@asynccontextmanager
async def open_gateway(settings: Settings, stack: AsyncExitStack) -> AsyncIterator[Gateway]:
    """Stripe with keys; else the localstripe at stripe_api_base, or one started here."""
    http = stripe.AIOHTTPClient(timeout=TIMEOUT_S)
    if settings.stripe_api_key is not None:
        assert settings.stripe_webhook_secret and settings.stripe_publishable_key
        client = _client(settings.stripe_api_key.get_secret_value(), settings.stripe_api_base, http)
        gateway = Gateway(
            client,
            settings.stripe_webhook_secret.get_secret_value(),
            settings.stripe_publishable_key,
            STRIPE_JS,
            STRIPE_ORIGINS,
            settings.stripe_webhook_tolerance_s,
        )
    else:
        if settings.stripe_api_base:
            base = settings.stripe_api_base.rstrip("/")
            secret = settings.stripe_webhook_secret
            if secret is None:
                raise ValueError("MARKINI_STRIPE_API_BASE needs MARKINI_STRIPE_WEBHOOK_SECRET")
            webhook_secret = secret.get_secret_value()
        else:
            base, webhook_secret = await stack.enter_async_context(
                embedded_localstripe(settings.data_dir, settings.public_url)
            )
        gateway = Gateway(
            _client(LOCAL_SECRET_KEY, base, http),
            webhook_secret,
            LOCAL_PUBLISHABLE_KEY,
            f"{base}/js.stripe.com/v3/",
            (base,),
            settings.stripe_webhook_tolerance_s,
        )
        log.info("payments on localstripe", extra={"api_base": base})
    try:
        yield gateway
    finally:
        await http.close_async()  # type: ignore[no-untyped-call]
