"""What every namespace shares: auth on connect, one ack shape, bad input never kills a socket.

Subclasses declare `path`, `client_events` (each served by an `on_<event>(sid, data)` method that
returns the ack's data) and optionally `on_connected` / `on_disconnected`. A handler raises
SocketError or a MarkiniError to refuse; the base turns that into `{ok: false, error}`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar

import socketio

from realtime.acks import Ack, SocketError, error, error_for, ok
from realtime.auth import refuse
from server.auth.principal import Principal

if TYPE_CHECKING:
    from realtime.hub import Realtime

log = logging.getLogger(__name__)

Handler = Callable[[str, Any], Awaitable[Any]]


class Channel(socketio.AsyncNamespace):  # type: ignore[misc]
    path: ClassVar[str]
    allow_anonymous: ClassVar[bool] = False
    client_events: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, hub: Realtime) -> None:
        super().__init__(self.path)
        self.hub = hub
        self.principals: dict[str, Principal | None] = {}

    async def trigger_event(self, event: str, *args: Any) -> Any:
        if event == "connect":
            await self._connect(args[0], args[2] if len(args) > 2 else None)
            return True
        if event == "disconnect":
            await self._disconnect(args[0])
            return None
        return await self.dispatch(args[0], event, args[1:])

    async def dispatch(self, sid: str, event: str, args: tuple[Any, ...]) -> Ack:
        handler = self.handler_for(event)
        if handler is None:
            return error("unknown_event", f"{self.path} has no event {event!r}.")
        if len(args) != 1:
            return error("invalid_payload", "Send exactly one JSON object with the event.")
        try:
            return ok(await handler(sid, args[0]))
        except Exception as exc:  # every refusal or bug becomes an ack; the socket stays up
            return error_for(exc)

    def handler_for(self, event: str) -> Handler | None:
        if event in self.client_events:
            handler: Handler = getattr(self, f"on_{event}")
            return handler
        return None

    def principal(self, sid: str) -> Principal:
        principal = self.principals.get(sid)
        if principal is None:
            raise SocketError("unauthenticated", "Connect with an access token for this event.")
        return principal

    async def on_connected(self, sid: str, principal: Principal | None) -> None:
        """Join the socket's rooms; raise SocketError / MarkiniError to refuse it."""

    async def on_disconnected(self, sid: str) -> None:
        """Forget per-socket state."""

    async def _connect(self, sid: str, auth: object) -> None:
        try:
            principal = await self.connect_principal(sid, auth)
            self.principals[sid] = principal
            await self.on_connected(sid, principal)
        except socketio.exceptions.ConnectionRefusedError:
            raise
        except Exception as exc:  # refused by a rule, or a bug: the client gets a connect_error
            await self._disconnect(sid)
            body = error_for(exc)["error"]
            raise refuse(body["code"], body["message"]) from exc

    async def connect_principal(self, sid: str, auth: object) -> Principal | None:
        """Who connects: the access token's principal (None if anonymous sockets are allowed
        and none was sent). A namespace may accept other credentials (/consult: guests)."""
        token = auth.get("token") if isinstance(auth, dict) else None
        if token is None and self.allow_anonymous:
            return None
        return await self.hub.sessions.authenticate(self.hub.engines, self.path, sid, token)

    async def _disconnect(self, sid: str) -> None:
        self.hub.sessions.forget(self.path, sid)
        try:
            await self.on_disconnected(sid)
        finally:
            self.principals.pop(sid, None)
