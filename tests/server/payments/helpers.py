"""Shared set-up for payment tests: an app on the session's localstripe, cards, signed events."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

from server.payments.embedded import LOCAL_PUBLISHABLE_KEY, LOCAL_SECRET_KEY

# Stripe's test cards, as localstripe knows them.
VISA = "4242424242424242"
DECLINED = "4000000000000341"  # attaches, then the charge is declined
GENERIC_DECLINE = "4000000000000002"  # Stripe's decline card: declined on charge (our launcher)
THREE_D_SECURE = "4000002760003184"  # asks for authentication

T = TypeVar("T")


async def card_token(api_base: str, number: str) -> str:
    """Tokenise a card the way Stripe.js does (publishable key, from the 'browser')."""
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{api_base}/v1/tokens",
            data={
                "card[number]": number,
                "card[exp_month]": "12",
                "card[exp_year]": "2034",
                "card[cvc]": "123",
                "key": LOCAL_PUBLISHABLE_KEY,
            },
        )
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


async def authenticate(api_base: str, intent_id: str, client_secret: str, ok: bool = True) -> None:
    """Finish 3-D Secure as localstripe's Stripe.js stand-in does."""
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{api_base}/v1/payment_intents/{intent_id}/_authenticate",
            params={"success": "true" if ok else "false"},
            json={"key": LOCAL_PUBLISHABLE_KEY, "client_secret": client_secret},
        )
    assert response.status_code == 200, response.text


async def stripe_intent(api_base: str, intent_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        response = await client.get(
            f"{api_base}/v1/payment_intents/{intent_id}",
            headers={"Authorization": f"Bearer {LOCAL_SECRET_KEY}"},
        )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def stripe_refunds(api_base: str, intent_id: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient() as client:
        response = await client.get(
            f"{api_base}/v1/refunds",
            params={"payment_intent": intent_id},
            headers={"Authorization": f"Bearer {LOCAL_SECRET_KEY}"},
        )
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def signed(
    secret: str, event: dict[str, Any], at: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """A webhook body and its Stripe-Signature header (Stripe's scheme: HMAC-SHA256 of
    "<t>.<body>")."""
    body = json.dumps(event).encode()
    at = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return body, {"Stripe-Signature": f"t={at},v1={mac}", "Content-Type": "application/json"}


def event_for(event_id: str, event_type: str, intent: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "api_version": "2017-08-15",
        "data": {"object": intent},
    }


async def eventually(check: Callable[[], Awaitable[T | None]], what: str) -> T:
    """Poll `check` every 50 ms (up to 15 s) until it returns something."""
    for _ in range(300):
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")
