"""Refusals of a request's Idempotency-Key (rendered as problem+json like every error)."""

from __future__ import annotations

from server.errors import MarkiniError, Reason


class InvalidIdempotencyKey(MarkiniError):
    status = 400
    title = "Invalid Idempotency-Key"
    type = "/problems/invalid-idempotency-key"


class IdempotencyKeyReused(MarkiniError):
    status = 422
    title = "Idempotency-Key reused"
    type = "/problems/idempotency-key-reused"


class IdempotentRequestInFlight(MarkiniError):
    status = 409
    title = "Request in progress"
    type = "/problems/idempotency-key-in-flight"


KEY_NEEDS_SIGN_IN = Reason(
    "idempotency-key-anonymous", "Idempotency-Key needs a signed-in caller: keys are kept per user."
)
ONE_KEY = Reason("idempotency-key-repeated", "Send one Idempotency-Key header.")
KEY_SHAPE = Reason(
    "idempotency-key-shape", "Idempotency-Key must be 1 to 255 printable ASCII characters."
)
KEY_REUSED = Reason(
    "idempotency-key-other-request",
    "This Idempotency-Key was used for another request; send a new key for a new request.",
)
STILL_RUNNING = Reason(
    "idempotency-key-running",
    "A request with this Idempotency-Key is still running; retry shortly.",
)
