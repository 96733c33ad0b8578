"""Typed domain errors; app code raises them and server.problems renders RFC 9457 bodies."""

from __future__ import annotations

from typing import Any


class MarkiniError(Exception):
    status: int = 400
    title: str = "Bad request"
    type: str = "about:blank"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra


class InvalidInput(MarkiniError):
    status = 422
    title = "Invalid input"
    type = "/problems/invalid-input"

    def __init__(self, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail, errors=errors or [])


class Unauthenticated(MarkiniError):
    status = 401
    title = "Authentication required"
    type = "/problems/unauthenticated"


class Forbidden(MarkiniError):
    status = 403
    title = "Forbidden"
    type = "/problems/forbidden"


class NotFound(MarkiniError):
    status = 404
    title = "Not found"
    type = "/problems/not-found"


class Conflict(MarkiniError):
    status = 409
    title = "Conflict"
    type = "/problems/conflict"


class RateLimited(MarkiniError):
    status = 429
    title = "Too many requests"
    type = "/problems/rate-limited"


class PayloadTooLarge(MarkiniError):
    status = 413
    title = "Payload too large"
    type = "/problems/payload-too-large"


class UnsupportedMediaType(MarkiniError):
    status = 415
    title = "Unsupported media type"
    type = "/problems/unsupported-media-type"


class ServiceUnavailable(MarkiniError):
    status = 503
    title = "Service unavailable"
    type = "/problems/unavailable"
