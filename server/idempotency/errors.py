"""Refusals of a request's Idempotency-Key (rendered as problem+json like every error)."""

from __future__ import annotations

from server.errors import MarkiniError


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
