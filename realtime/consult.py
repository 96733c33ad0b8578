"""/consult: one room per appointment for its patient and doctor: chat, and extensions.

Chat is served here (realtime/chat.py). Other packages add events to this namespace without
touching chat code: a ConsultExtension maps event names to handlers that receive a
ConsultContext (who is calling, which appointments this socket joined, how to reach the other
party), and may react to bus events on every node (realtime/fanout.py). The composition root,
server/app.py, hands the extensions to the hub (WebRTC signaling plugs in there), so realtime/
imports no extension.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bus.events import Envelope
from realtime import chat
from realtime.acks import SocketError
from realtime.base import Channel, Handler
from realtime.protocol import (
    CONSULT_NS,
    HISTORY,
    JOIN,
    LEAVE,
    LEFT,
    MESSAGE,
    READ,
    RESYNC,
    ChatMessage,
    ChatResync,
    HistoryIn,
    HistoryPage,
    JoinIn,
    MessageIn,
    ReadIn,
    ReadReceipt,
    RoomLeft,
)
from server.auth.principal import Principal
from server.scheduling.service import Parties
from server.teleconsult.guests import GuestClaims, decode_guest_token

if TYPE_CHECKING:
    from realtime.hub import Realtime

log = logging.getLogger(__name__)


def consult_room(appointment_id: uuid.UUID) -> str:
    return f"consult:{appointment_id}"


@dataclass
class ConsultContext:
    """One /consult socket as handlers see it."""

    hub: Realtime
    channel: ConsultChannel
    sid: str
    principal: Principal
    joined: dict[uuid.UUID, Parties]  # this socket's rooms (mutated by join / leave)
    guest: GuestClaims | None = None  # an invitee's socket (auth {guest_token}), else None

    def require_joined(self, appointment_id: uuid.UUID) -> Parties:
        parties = self.joined.get(appointment_id)
        if parties is None:
            raise SocketError("not_joined", "Join this appointment's room first.")
        return parties

    async def enter(self, parties: Parties) -> None:
        await self.channel.enter_room(self.sid, consult_room(parties.appointment_id))
        self.joined[parties.appointment_id] = parties

    async def to_others(self, appointment_id: uuid.UUID, event: str, payload: Any) -> None:
        """Every other socket in the room, on any node (through the client manager)."""
        await self.channel.emit(
            event, payload, room=consult_room(appointment_id), skip_sid=self.sid
        )


ConsultHandler = Callable[[ConsultContext, Any], Awaitable[Any]]
LeaveHook = Callable[[ConsultContext, uuid.UUID], Awaitable[None]]
BusHook = Callable[["Realtime", Envelope], Awaitable[None]]


@dataclass(frozen=True)
class ConsultExtension:
    """Extra client events on /consult; `on_leave` runs when a socket leaves a room or drops;
    `bus_events` are bus event types the node's fan-out hands to the extension."""

    handlers: Mapping[str, ConsultHandler]
    on_leave: LeaveHook | None = None
    bus_events: Mapping[str, BusHook] = field(default_factory=dict)


class ConsultChannel(Channel):
    path = CONSULT_NS
    client_events = frozenset({JOIN, LEAVE, MESSAGE, HISTORY, READ})

    def __init__(self, hub: Realtime, extensions: list[ConsultExtension]) -> None:
        super().__init__(hub)
        self.extensions = extensions
        self._extra: dict[str, ConsultHandler] = {}
        self.bus_hooks: dict[str, list[BusHook]] = {}
        for extension in extensions:
            for event_type, hook in extension.bus_events.items():
                self.bus_hooks.setdefault(event_type, []).append(hook)
            for event, handler in extension.handlers.items():
                if event in self.client_events or event in self._extra:
                    raise ValueError(f"/consult event {event!r} is already taken")
                self._extra[event] = handler
        self._joined: dict[str, dict[uuid.UUID, Parties]] = {}
        self._guests: dict[str, GuestClaims] = {}

    def context(self, sid: str) -> ConsultContext:
        joined = self._joined.setdefault(sid, {})
        principal = self.principal(sid)
        return ConsultContext(self.hub, self, sid, principal, joined, self._guests.get(sid))

    async def connect_principal(self, sid: str, auth: object) -> Principal | None:
        """An access token, or an invitee's guest token (docs/realtime.md, "Third
        participant"): a guest's socket may only enter its own call (signaling/guests.py)."""
        guest_token = auth.get("guest_token") if isinstance(auth, dict) else None
        if not isinstance(guest_token, str):
            return await super().connect_principal(sid, auth)
        claims = decode_guest_token(self.hub.engines.settings, guest_token)
        self._guests[sid] = claims
        return claims.principal()

    def handler_for(self, event: str) -> Handler | None:
        extra = self._extra.get(event)
        if extra is None:
            return super().handler_for(event)

        async def handle(sid: str, data: Any) -> Any:
            return await extra(self.context(sid), data)

        return handle

    async def on_join(self, sid: str, data: Any) -> HistoryPage:
        return await chat.join(self.context(sid), JoinIn.model_validate(data))

    async def on_leave(self, sid: str, data: Any) -> dict[str, Any]:
        request = JoinIn.model_validate(data)
        ctx = self.context(sid)
        ctx.require_joined(request.appointment_id)
        await self.leave(ctx, request.appointment_id)
        return {"appointment_id": str(request.appointment_id), "joined": False}

    async def on_message(self, sid: str, data: Any) -> ChatMessage:
        return await chat.send(self.context(sid), MessageIn.model_validate(data))

    async def on_history(self, sid: str, data: Any) -> HistoryPage:
        return await chat.history(self.context(sid), HistoryIn.model_validate(data))

    async def on_read(self, sid: str, data: Any) -> ReadReceipt:
        return await chat.read(self.context(sid), ReadIn.model_validate(data))

    async def leave(
        self, ctx: ConsultContext, appointment_id: uuid.UUID, *, socket_gone: bool = False
    ) -> None:
        ctx.joined.pop(appointment_id, None)
        if not socket_gone:  # a disconnecting socket leaves its rooms by itself
            await self.leave_room(ctx.sid, consult_room(appointment_id))
        for extension in self.extensions:
            if extension.on_leave is not None:
                try:
                    await extension.on_leave(ctx, appointment_id)
                except Exception:  # one extension's bug must not keep the socket in a room
                    log.exception("consult on_leave hook failed")

    async def end_access(self, user_id: uuid.UUID, patient_id: uuid.UUID) -> int:
        """Take this node's sockets of `user_id` (no longer acting for `patient_id`) out of
        that patient's rooms: chat and call (the extensions' on_leave), each told `left`.
        Returns how many rooms were left; 0 when the sockets were already out (another path,
        the same event delivered again)."""
        left = 0
        for sid, joined in list(self._joined.items()):
            principal = self.principals.get(sid)
            if principal is None or principal.user_id != user_id or sid in self._guests:
                continue
            ctx = self.context(sid)
            for appointment_id, parties in list(joined.items()):
                if parties.patient_id != patient_id or user_id == parties.doctor_user_id:
                    continue  # another patient's room, or one the user is the doctor of
                await self.leave(ctx, appointment_id)
                news = RoomLeft(appointment_id=appointment_id, reason="access_revoked")
                await self.hub.sio.emit(
                    LEFT,
                    news.model_dump(mode="json"),
                    to=sid,
                    namespace=CONSULT_NS,
                    ignore_queue=True,
                )
                left += 1
        return left

    async def resync_all(self) -> None:
        """Tell every socket of this node, per joined room, to read the stored history again."""
        appointments = {a for joined in self._joined.values() for a in joined}
        for appointment_id in appointments:
            payload = ChatResync(appointment_id=appointment_id).model_dump(mode="json")
            # This node's sockets only: every node whose fan-out failed sends its own.
            await self.hub.sio.emit(
                RESYNC,
                payload,
                room=consult_room(appointment_id),
                namespace=CONSULT_NS,
                ignore_queue=True,
            )

    async def on_disconnected(self, sid: str) -> None:
        joined = self._joined.get(sid, {})
        if joined and self.principals.get(sid) is not None:
            ctx = self.context(sid)
            for appointment_id in list(joined):
                await self.leave(ctx, appointment_id, socket_gone=True)
        self._joined.pop(sid, None)
        self._guests.pop(sid, None)
