"""Consultation chat: only the appointment's two parties; messages stored encrypted; receipts.

Joining is an access to health data (the history), so joins and refusals are audited.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import TYPE_CHECKING

import asyncpg
from limits import parse
from starlette.requests import HTTPConnection

from realtime.acks import SocketError
from realtime.protocol import (
    CHAT_RATE_LIMIT,
    HISTORY_PAGE,
    MAX_MESSAGE_CHARS,
    MESSAGE,
    READ,
    ChatMessage,
    HistoryIn,
    HistoryPage,
    JoinIn,
    MessageIn,
    ReadIn,
    ReadReceipt,
)
from server import clock
from server.audit.service import record_access
from server.scheduling.service import appointment_parties
from storage import chat as store
from storage import consult_invites as invites
from storage.relatives import acts_for

if TYPE_CHECKING:
    from realtime.consult import ConsultContext

log = logging.getLogger(__name__)

_RATE = parse(CHAT_RATE_LIMIT)


async def _guest_since(ctx: ConsultContext, appointment_id: uuid.UUID) -> datetime:
    """An invitee's chat starts at its admission: before it, and for any other appointment,
    the answer is the stranger's (docs/realtime.md, "Third participant")."""
    assert ctx.guest is not None
    invite = await invites.invite_by_id(ctx.hub.engines.pool, ctx.guest.invite_id)
    if (
        invite is None
        or ctx.guest.appointment_id != appointment_id
        or invite["status"] != "admitted"
        or invite["decided_at"] is None
    ):
        raise SocketError("not_found", "No such appointment among yours.")
    since: datetime = invite["decided_at"]
    return since


async def _still_party(ctx: ConsultContext, appointment_id: uuid.UUID) -> None:
    """Defence in depth behind LiveAccess and `patient.proxy_revoked` (realtime/fanout.py):
    a proxy whose link was revoked since its join reads and says nothing more, even before
    its node has taken it out of the room (it leaves the room here). One indexed read; the
    doctor and an invitee (checked by _guest_since) skip it."""
    parties = ctx.require_joined(appointment_id)
    user = ctx.principal.user_id
    if ctx.guest is not None or user == parties.doctor_user_id:
        return
    if not await acts_for(ctx.hub.engines.pool, user, parties.patient_id):
        await ctx.channel.leave(ctx, appointment_id)
        raise SocketError("not_joined", "Join this appointment's room first.")


async def join(ctx: ConsultContext, request: JoinIn) -> HistoryPage:
    pool = ctx.hub.engines.pool
    parties = await appointment_parties(pool, request.appointment_id)
    user = ctx.principal.user_id
    if ctx.guest is not None and parties is not None:
        since = await _guest_since(ctx, request.appointment_id)
        await ctx.enter(parties)
        return await _page(ctx, request.appointment_id, None, HISTORY_PAGE, since)
    if parties is None or user not in (*parties.acting_user_ids, parties.doctor_user_id):
        status = 404 if parties is None else 403
        await _audit(ctx, request.appointment_id, "consultation_chat.join_refused", status)
        # Like scheduling: a non-party learns nothing about whether the appointment exists.
        raise SocketError("not_found", "No such appointment among yours.")
    await ctx.enter(parties)
    page = await _page(ctx, request.appointment_id, None, HISTORY_PAGE)
    await _audit(ctx, request.appointment_id, "consultation_chat.read", 200)
    return page


async def send(ctx: ConsultContext, request: MessageIn) -> ChatMessage:
    appointment_id = request.appointment_id
    await _still_party(ctx, appointment_id)
    if ctx.guest is not None:
        await _guest_since(ctx, appointment_id)
    if not request.body.strip():
        raise SocketError("invalid_payload", "The message is empty.")
    if len(request.body) > MAX_MESSAGE_CHARS:
        raise SocketError("message_too_long", f"At most {MAX_MESSAGE_CHARS} characters.")
    engines = ctx.hub.engines
    if not await engines.limiter.hit(_RATE, "chat", str(ctx.principal.user_id)):
        raise SocketError("rate_limited", f"Too many messages (limit {CHAT_RATE_LIMIT}).")
    sealed = ctx.hub.cipher.encrypt(request.body, aad=appointment_id.bytes)
    async with engines.pool.acquire() as con:
        row = await store.insert_message(
            con,
            appointment_id,
            ctx.principal.user_id,
            request.client_message_id,
            dict(sealed),
            clock.now(),
        )
        if row is None:  # a resend of a stored message: answer it again, deliver nothing new
            assert request.client_message_id is not None
            stored = await store.message_by_client_id(
                con, appointment_id, ctx.principal.user_id, request.client_message_id
            )
            assert stored is not None
            return _message(ctx, stored)
    message = _message(ctx, row)
    await ctx.to_others(appointment_id, MESSAGE, message.model_dump(mode="json"))
    return message


async def history(ctx: ConsultContext, request: HistoryIn) -> HistoryPage:
    await _still_party(ctx, request.appointment_id)
    since = await _guest_since(ctx, request.appointment_id) if ctx.guest is not None else None
    before_seq = None
    if request.before is not None:
        async with ctx.hub.engines.pool.acquire() as con:
            before_seq = await store.message_seq(con, request.appointment_id, request.before)
        if before_seq is None:
            raise SocketError("not_found", "No such message in this conversation.")
    return await _page(ctx, request.appointment_id, before_seq, request.limit, since)


async def read(ctx: ConsultContext, request: ReadIn) -> ReadReceipt:
    reader = ctx.principal.user_id
    pool = ctx.hub.engines.pool
    async with pool.acquire() as con:
        row = await store.message_to(con, request.message_id, reader)
    if row is None:
        raise SocketError("not_found", "No such message to you.")
    await _still_party(ctx, row["appointment_id"])
    if ctx.guest is not None:  # receipts are the parties' (the patient's notifications)
        raise SocketError("not_found", "No such message to you.")
    async with pool.acquire() as con:
        first = await store.mark_read(con, request.message_id, clock.now())
    receipt = ReadReceipt(
        appointment_id=row["appointment_id"],
        message_id=request.message_id,
        reader_user_id=reader,
        read_at=first["read_at"] if first else row["read_at"],
    )
    if first is not None:  # reading again changes nothing and tells nobody
        await ctx.to_others(receipt.appointment_id, READ, receipt.model_dump(mode="json"))
    return receipt


async def _page(
    ctx: ConsultContext,
    appointment_id: uuid.UUID,
    before_seq: int | None,
    limit: int,
    since: datetime | None = None,
) -> HistoryPage:
    async with ctx.hub.engines.pool.acquire() as con:
        rows = await store.list_messages(con, appointment_id, before_seq, limit + 1)
    if since is not None:  # an invitee: nothing said before its admission
        rows = [r for r in rows if r["created_at"] >= since]
    more = len(rows) > limit
    rows = rows[:limit]
    return HistoryPage(
        appointment_id=appointment_id,
        messages=[_message(ctx, r) for r in reversed(rows)],
        next_before=rows[-1]["id"] if more else None,
    )


def _message(ctx: ConsultContext, row: asyncpg.Record) -> ChatMessage:
    body = ctx.hub.cipher.decrypt(row["body"], aad=row["appointment_id"].bytes)
    return ChatMessage(
        id=row["id"],
        appointment_id=row["appointment_id"],
        sender_user_id=row["sender_user_id"],
        body=body,
        client_message_id=row["client_message_id"],
        created_at=row["created_at"],
        read_at=row["read_at"],
    )


async def _audit(ctx: ConsultContext, appointment_id: uuid.UUID, action: str, status: int) -> None:
    environ = ctx.channel.server.get_environ(ctx.sid, ctx.channel.namespace) or {}
    scope = environ.get("asgi.scope")
    await record_access(
        ctx.hub.engines.pool,
        principal=ctx.principal,
        action=action,
        resource_type="appointment",
        resource_id=appointment_id,
        status=status,
        request=HTTPConnection(scope) if scope else None,
    )
