"""Acknowledgement shapes: `{ok: true, data}` or `{ok: false, error: {code, message}}`."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, ValidationError

from realtime.protocol import ErrorCode
from server.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    MarkiniError,
    NotFound,
    RateLimited,
    Unauthenticated,
)

log = logging.getLogger(__name__)

Ack = dict[str, Any]

# Domain errors raised by services map onto the socket error codes by class (MRO order).
_CODES: tuple[tuple[type[MarkiniError], ErrorCode], ...] = (
    (InvalidInput, "invalid_payload"),
    (Unauthenticated, "unauthenticated"),
    (Forbidden, "forbidden"),
    (NotFound, "not_found"),
    (Conflict, "conflict"),
    (RateLimited, "rate_limited"),
)


class SocketError(Exception):
    """A refusal with a protocol error code; handlers raise it, the base namespace acks it."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def ok(data: BaseModel | dict[str, Any] | list[Any] | None = None) -> Ack:
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json", by_alias=True)
    return {"ok": True, "data": data}


def error(code: ErrorCode, message: str) -> Ack:
    return {"ok": False, "error": {"code": code, "message": message}}


def error_for(exc: Exception) -> Ack:
    """The ack for an exception a handler let escape; unexpected ones are logged, not leaked."""
    if isinstance(exc, SocketError):
        return error(exc.code, exc.message)
    if isinstance(exc, ValidationError):
        return error("invalid_payload", _describe(exc))
    if isinstance(exc, MarkiniError):
        for cls, code in _CODES:
            if isinstance(exc, cls):
                return error(code, exc.detail)
        return error("invalid_payload", exc.detail)
    log.exception("socket handler failed", exc_info=exc)
    return error("internal", "Something went wrong on our side; try again.")


def _describe(exc: ValidationError) -> str:
    parts = []
    for item in exc.errors()[:5]:
        where = ".".join(str(p) for p in item["loc"]) or "payload"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)
