"""Pure-ASGI middleware: one audit entry for every mutating request under /api/.

It sits inside BodyGuardMiddleware (which bounds and replays the body); it reads the body
up front too, and replays it, so even a request no handler reads is recorded with its payload.
Who acted comes from scope["state"]["principal"] (set by server.auth.principal when the route
authenticates); the action and resource from the matched route template and path parameters.

A change is recorded inside its own transaction: the service calls
`server.audit.service.record_change(con)` there, finding this request through the
AUDITED_REQUEST context variable, so the change and its entry commit together or not at all
(`record_change_for` when the request does not authenticate the one acting, e.g. an SMS reply).
Every other outcome (a refusal, an error, a route that changed nothing) is recorded here once the
answer is known, before it leaves: the answer is held until its entry is stored, and a request
whose entry cannot be written gets a 503 instead (fail closed; nothing was changed). Input cannot
make the write fail (masking.storable); only an unreachable database can.
"""

from __future__ import annotations

import logging

import asyncpg
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import clock
from server.audit import service
from server.audit.context import AUDITED_REQUEST, AuditedRequest
from server.audit.masking import MAX_RECORDED_BYTES, masked_body
from server.problems import render_error
from storage.audit import NewAuditLog, insert_logs, log_stored
from storage.group import Grouped

log = logging.getLogger(__name__)

AUDITED_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# GraphQL's POSTs carry mutations (and queries): audited like the REST API's.
AUDITED_PREFIXES = ("/api/", "/graphql")


class AuditMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in AUDITED_METHODS
            or not scope["path"].startswith(AUDITED_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        # Our own copy of the request state: a server that shares one state dict between
        # requests (asgi-lifespan does) must not leak another request's principal into ours.
        state = dict(scope.get("state") or {})
        state.pop("principal", None)
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

        audited = AuditedRequest(scope, lambda: masked_body(body, size))
        token = AUDITED_REQUEST.set(audited)
        try:
            await self.app(scope, replaying_receive, holding_send)
        except BaseException:
            # A change whose entry committed keeps it as the request's one entry (e.g. the
            # client went away after the booking: the request is cancelled); otherwise, its
            # transaction rolled back with the entry, the request is recorded as failed.
            recorded = audited.recorded
            if recorded is None or not await _stored(scope, recorded):
                await _write(scope, audited.entry(500, clock.now()))
            raise
        finally:
            AUDITED_REQUEST.reset(token)
        # Recorded in the change's own transaction: nothing more to write.
        recorded = audited.recorded
        if (recorded is not None and recorded.response_status == status) or await _write(
            scope, audited.entry(status, clock.now())
        ):
            for message in held:
                await send(message)
            return
        await render_error(service.AuditUnavailable())(scope, receive, send)


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


async def _insert(con: asyncpg.Connection, entries: list[NewAuditLog]) -> list[None]:
    await insert_logs(con, entries)
    return [None] * len(entries)


# The entries this middleware writes itself (refusals, errors, routes that record no change) go
# in groups under a rush (storage.group): a race's 409s take a few statements, not one each.
append_entries = Grouped(_insert)


async def _stored(scope: Scope, entry: NewAuditLog) -> bool:
    """Whether `entry` committed (False when that cannot be known: then one more is written)."""
    try:
        return await log_stored(scope["state"]["engines"].pool, entry)
    except Exception:
        log.exception("audit entry not checked", extra={"action": entry.action})
        return False


async def _write(scope: Scope, entry: NewAuditLog) -> bool:
    """Store the entry; False (logged loudly) when it cannot be stored."""
    engines = scope["state"].get("engines")
    if engines is None:
        log.error("audit entry lost: no engines in request state", extra={"action": entry.action})
        return False
    try:
        await append_entries(engines.pool, entry)
    except Exception:
        log.exception("audit entry not written: answer refused", extra={"action": entry.action})
        return False
    return True
