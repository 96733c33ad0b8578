"""Pure-ASGI middleware: request id + access log + metrics, and the request body guard."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.errors import PayloadTooLarge, Reason, UnsupportedMediaType
from server.logs import request_id_var
from server.metrics import Metrics
from server.problems import render_error

log = logging.getLogger("markini.access")

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_BODY_METHODS = {"POST", "PUT", "PATCH"}

SEND_JSON = Reason("send-json", "Send the request body as application/json.")
BODY_TOO_LARGE = Reason("body-too-large", "The request body exceeds {max_bytes} bytes.")


class RequestContextMiddleware:
    """Give every request an id (echoed as X-Request-ID), log it and count it per route."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        # A fresh state dict per request: the lifespan state is shared, per-request values are not.
        scope["state"] = {**scope.get("state", {}), "request_id": request_id}
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            self.metrics.observe_request(scope["method"], route, status, elapsed)
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "ms": round(elapsed * 1000, 2),
                },
            )
            request_id_var.reset(token)


def _route_template(scope: Scope) -> str:
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


def replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app `body`, already read by a middleware, then the rest."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


# Provider webhooks that post forms, as their provider does (Twilio's inbound SMS).
FORM_WEBHOOKS = frozenset({"/api/v1/notifications/sms/inbound"})


def guards_body(method: str, path: str) -> bool:
    """Whether BodyGuardMiddleware may refuse this request's body as non-JSON (415); any body
    of these methods may be refused as too large (413)."""
    return (
        method.upper() in _BODY_METHODS and path.startswith("/api/") and path not in FORM_WEBHOOKS
    )


class BodyGuardMiddleware:
    """Refuse oversized (413) and non-JSON API bodies (415) before any handler runs."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        if body and guards_body(scope["method"], scope["path"]) and not _is_json(content_type):
            response = render_error(UnsupportedMediaType(SEND_JSON))
            await response(scope, receive, send)
            return
        await self.app(scope, replaying(body, receive), send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = render_error(
            PayloadTooLarge(BODY_TOO_LARGE, params={"max_bytes": self.max_bytes})
        )
        await response(scope, receive, send)


def _is_json(content_type: str) -> bool:
    media = content_type.split(";")[0].strip()
    return media == "application/json" or media.endswith("+json")


class WebSocketShortcut:
    """Websockets under `prefix` go straight to `socket_app` (the Socket.IO server).

    Every layer between the server and the app keeps a suspended frame for as long as the
    socket is open, and none of the HTTP middlewares (request id, body guard, audit, text guard,
    idempotency) acts on a websocket: skipping them is a few KiB less per idle socket
    (bench/idle_sockets.py). Sits inside the trusted-proxy middleware, so the client address
    the socket sees is the same as for HTTP.
    """

    def __init__(self, app: ASGIApp, socket_app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.socket_app = socket_app
        self.prefix = prefix.rstrip("/") + "/"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"].startswith(self.prefix):
            await self.socket_app(scope, receive, send)
        else:
            await self.app(scope, receive, send)
