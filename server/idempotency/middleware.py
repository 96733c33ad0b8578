"""Pure-ASGI middleware: a repeated POST with the same Idempotency-Key gets the first answer.

Follows the IETF draft "The Idempotency-Key HTTP Header Field" and Stripe's behaviour:

- keys belong to the caller (the user of the bearer token, verified like every route does);
  a key without a signed-in caller is refused (400), as nothing would keep callers apart;
- the key is claimed atomically (INSERT ... ON CONFLICT) before the handler runs; a repeat while
  the first still runs gets 409 with Retry-After; a repeat of another request (method, path or
  body differ) gets 422;
- a finished answer (2xx, 3xx and 4xx but 401/408/425/429, which say "try again") is stored,
  its body encrypted at rest like any health data (it may hold notes), and replayed byte for
  byte with `Idempotent-Replayed: true`; a 5xx or an exception releases the key so a retry runs
  afresh; an answer marked `Cache-Control: no-store` (credentials) is never stored either;
- keys expire `idempotency_key_ttl_s` after their first use (the server's clock decides); an
  expired key counts as absent, and the sweeper deletes it.

It sits inside the audit middleware (a replay is audited like any request) and outside
FastAPI's exception handling, so it stores the rendered problem of a 4xx.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import clock
from server.auth.principal import authenticate_token
from server.crypto import FieldCipher
from server.engines import Engines
from server.errors import MarkiniError
from server.idempotency.errors import (
    KEY_NEEDS_SIGN_IN,
    KEY_REUSED,
    KEY_SHAPE,
    ONE_KEY,
    STILL_RUNNING,
    IdempotencyKeyReused,
    IdempotentRequestInFlight,
    InvalidIdempotencyKey,
)
from server.idempotency.policy import (
    HEADER,
    IN_FLIGHT_LEASE,
    IN_FLIGHT_RETRY_AFTER_S,
    KEY_PATTERN,
    REPLAYED_HEADER,
    takes_key,
)
from server.middleware import replaying
from server.problems import render_error
from storage import idempotency as store

log = logging.getLogger(__name__)

_HEADER = HEADER.lower().encode()
# What a replay needs besides status and body.
STORED_HEADERS = (b"content-type", b"location", b"retry-after")
# Answers that say "not now" rather than "no": a retry must run afresh.
NOT_STORED = frozenset({401, 408, 425, 429})
# Claim attempts when the key is released or expires under our feet between two statements.
CLAIM_ATTEMPTS = 3


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not takes_key(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        keys = [value for name, value in scope["headers"] if name == _HEADER]
        if not keys:
            await self.app(scope, receive, send)
            return
        try:
            pending = await _pending(scope, receive, keys)
            engines: Engines = scope["state"]["engines"]
            stored = await _claim(engines.pool, pending.claim)
        except MarkiniError as error:
            await render_error(error)(scope, receive, send)
            return
        if stored is not None:
            await _replay(stored, _cipher(scope))(scope, receive, send)
            return
        await self._run(engines.pool, pending, scope, receive, send)

    async def _run(
        self,
        pool: asyncpg.Pool,
        pending: _Pending,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        claim, body = pending.claim, pending.body
        status: int | None = None
        headers: dict[str, str] = {}
        no_store = False
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, no_store
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", []):
                    if name in STORED_HEADERS:
                        headers[name.decode("latin-1")] = value.decode("latin-1")
                    elif name == b"cache-control" and b"no-store" in value.lower():
                        no_store = True
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replaying(body, receive), capture)
        except BaseException:
            await _release(pool, claim)
            raise
        if status is None or status >= 500 or status in NOT_STORED or no_store:
            await _release(pool, claim)
            return
        try:
            sealed = _cipher(scope).encrypt(
                base64.b64encode(b"".join(chunks)).decode("ascii"), _aad(claim.scope, claim.key)
            )
            kept = await store.store_response(
                pool, claim.scope, claim.key, claim.lock_id, status, headers, sealed
            )
        except Exception:  # the answer is sent; the claim lapses after IN_FLIGHT_LEASE
            log.exception("idempotent answer not stored", extra={"key_scope": claim.scope})
            return
        if not kept:
            log.warning("idempotency claim lost before its answer", extra={"path": claim.path})


@dataclass(frozen=True)
class _Pending:
    """A claim about to be made, with the request body it fingerprints."""

    claim: store.Claim
    body: bytes


async def _pending(scope: Scope, receive: Receive, keys: list[bytes]) -> _Pending:
    """Check the key and the caller, read the body: the claim this request would make."""
    key = _valid_key(keys)
    engines: Engines = scope["state"]["engines"]
    token = _bearer(scope)
    if token is None:
        raise InvalidIdempotencyKey(KEY_NEEDS_SIGN_IN)
    principal = await authenticate_token(engines, token)
    scope["state"]["principal"] = principal  # the audit entry names the caller of a replay
    body = await _read_body(receive)
    query = scope.get("query_string", b"").decode("latin-1")
    path = scope["path"] + (f"?{query}" if query else "")
    now = clock.now()
    ttl = timedelta(seconds=engines.settings.idempotency_key_ttl_s)
    return _Pending(
        store.Claim(
            scope=f"user:{principal.user_id}",
            key=key,
            method=scope["method"],
            path=path,
            sha256=hashlib.sha256(body).digest(),
            lock_id=uuid.uuid4(),
            locked_until=now + IN_FLIGHT_LEASE,
            created_at=now,
            expires_at=now + ttl,
        ),
        body,
    )


def _valid_key(keys: list[bytes]) -> str:
    if len(keys) > 1:
        raise InvalidIdempotencyKey(ONE_KEY)
    key = keys[0].decode("latin-1")
    if not KEY_PATTERN.fullmatch(key):
        raise InvalidIdempotencyKey(KEY_SHAPE)
    return key


def _bearer(scope: Scope) -> str | None:
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


async def _read_body(receive: Receive) -> bytes:
    """The whole request body (BodyGuardMiddleware has bounded it already)."""
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


async def _claim(pool: asyncpg.Pool, claim: store.Claim) -> asyncpg.Record | None:
    """None when the key is ours to run; else the stored answer to replay. Raises 409 / 422."""
    for _ in range(CLAIM_ATTEMPTS):
        if await store.claim_key(pool, claim):
            return None
        row = await store.fetch_key(pool, claim.scope, claim.key, claim.created_at)
        if row is None:  # released or expired since our attempt: try again
            continue
        same = (row["request_method"], row["request_path"], bytes(row["request_sha256"])) == (
            claim.method,
            claim.path,
            claim.sha256,
        )
        if not same:
            raise IdempotencyKeyReused(KEY_REUSED)
        if row["lock_id"] is None:
            return row
        break
    raise IdempotentRequestInFlight(
        STILL_RUNNING,
        retry_after=IN_FLIGHT_RETRY_AFTER_S,
    )


def _cipher(scope: Scope) -> FieldCipher:
    engines: Engines = scope["state"]["engines"]
    return FieldCipher(engines.settings)


def _aad(scope: str, key: str) -> bytes:
    """Binds a stored body to its key: copied onto another row, it does not decrypt."""
    return f"{scope}\n{key}".encode()


def _replay(row: asyncpg.Record, cipher: FieldCipher) -> Response:
    stored: dict[str, Any] = row["response_headers"] or {}
    headers = {**{k: str(v) for k, v in stored.items()}, REPLAYED_HEADER: "true"}
    sealed = cipher.decrypt(row["response_body"], _aad(row["scope"], row["key"]))
    body = base64.b64decode(sealed)
    return Response(body, status_code=row["response_status"], headers=headers)


async def _release(pool: asyncpg.Pool, claim: store.Claim) -> None:
    try:
        await store.release_key(pool, claim.scope, claim.key, claim.lock_id)
    except Exception:  # the claim lapses after IN_FLIGHT_LEASE
        log.exception("idempotency key not released", extra={"path": claim.path})
