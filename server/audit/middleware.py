"""Pure-ASGI middleware: one audit entry after every mutating request under /api/.

It sits inside BodyGuardMiddleware (which bounds and replays the body); it reads the body
up front too, and replays it, so even a request no handler reads is recorded with its payload.
Who acted comes from scope["state"]["principal"] (set by server.auth.principal when the route
authenticates); the action and resource from the matched route template and path parameters.
The entry is written before the response leaves: the answer is held until its entry is stored,
and a request whose entry cannot be written gets a 503 instead of its answer (fail closed). Input
cannot make the write fail (masking.storable); only an unreachable database can.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.audit import service
from server.audit.context import AUDIT_STATE_KEY, AuditNote, derive_resource
from server.audit.masking import MAX_RECORDED_BYTES, masked_body, storable
from server.auth.principal import Principal
from server.errors import Reason, ServiceUnavailable
from server.logs import request_id_var
from server.problems import render_error
from storage.audit import NewAuditLog

log = logging.getLogger(__name__)

AUDITED_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# What a refused request tells the client: the database is usually back within seconds.
RETRY_AFTER_S = 5
# An unmatched path is attacker-chosen: keep only its start.
MAX_UNMATCHED_PATH = 200

AUDIT_DOWN = Reason(
    "audit-unavailable", "The action could not be recorded in the audit trail; try again later."
)


class AuditMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in AUDITED_METHODS
            or not scope["path"].startswith("/api/")
        ):
            await self.app(scope, receive, send)
            return
        # Our own copy of the request state: a server that shares one state dict between
        # requests (asgi-lifespan does) must not leak another request's principal into ours.
        state = dict(scope.get("state") or {})
        state.pop("principal", None)
        state.pop(AUDIT_STATE_KEY, None)
        scope["state"] = state
        # Read the body up front (bounded): the handler may never read it, e.g. on a 404.
        early, size = await _read_start(receive)
        body = b"".join(m.get("body", b"") for m in early if m["type"] == "http.request")
        status = 500

        async def replaying_receive() -> Message:
            nonlocal size
            if early:
                return early.pop(0)
            message = await receive()
            size += len(message.get("body", b"")) if message["type"] == "http.request" else 0
            return message

        held: list[Message] = []

        async def holding_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            held.append(message)

        try:
            await self.app(scope, replaying_receive, holding_send)
        except BaseException:
            await _write(scope, _entry(scope, masked_body(body, size), 500))
            raise
        if await _write(scope, _entry(scope, masked_body(body, size), status)):
            for message in held:
                await send(message)
            return
        response = render_error(ServiceUnavailable(AUDIT_DOWN))
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        await response(scope, receive, send)


async def _read_start(receive: Receive) -> tuple[list[Message], int]:
    """The body's first messages, until its end or just past MAX_RECORDED_BYTES."""
    early: list[Message] = []
    size = 0
    more = True
    while more and size <= MAX_RECORDED_BYTES:
        message = await receive()
        early.append(message)
        if message["type"] != "http.request":
            break
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    return early, size


def _entry(scope: Scope, payload: Any, status: int) -> NewAuditLog:
    state: dict[str, Any] = scope["state"]
    principal = state.get("principal")
    if not isinstance(principal, Principal):
        principal = None
    route: Any = scope.get("route")
    template = getattr(route, "path", None)
    if template:
        action = f"{scope['method']} {template}"
        resource_type, resource_id = derive_resource(template, scope.get("path_params", {}))
    else:
        action = f"{scope['method']} {storable(scope['path'][:MAX_UNMATCHED_PATH])}"
        resource_type, resource_id = None, None
    note = state.get(AUDIT_STATE_KEY)
    if isinstance(note, AuditNote):
        action = note.action or action
        resource_type = note.resource_type or resource_type
        resource_id = note.resource_id or resource_id
    headers = dict(scope.get("headers") or [])
    agent = storable(headers.get(b"user-agent", b"").decode("latin-1")[: service.MAX_USER_AGENT])
    client = scope.get("client")
    return NewAuditLog(
        action=action,
        user_id=principal.user_id if principal else None,
        role=principal.role if principal else None,
        resource_type=resource_type,
        resource_id=storable(resource_id) if resource_id else None,
        ip_address=client[0] if client else None,
        user_agent=agent or None,
        request_id=request_id_var.get(),
        request_payload=payload,
        response_status=status,
    )


async def _write(scope: Scope, entry: NewAuditLog) -> bool:
    """Store the entry; False (logged loudly) when it cannot be stored."""
    engines = scope["state"].get("engines")
    if engines is None:
        log.error("audit entry lost: no engines in request state", extra={"action": entry.action})
        return False
    try:
        await service.append(engines.pool, entry)
    except Exception:
        log.exception("audit entry lost", extra={"action": entry.action})
        return False
    return True
