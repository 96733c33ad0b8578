"""The call in a consultation room: join with a join token, waiting room, admission, relay of
offer / answer / ICE to the other party only, hang-up, leaving.

Who is in a call lives in teleconsult.presence (one socket per role, shared by every node), so
a relay reaches the other party's current socket wherever it is connected, and a socket that
was replaced (the party reconnected elsewhere) can no longer speak for it.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from limits import parse
from starlette.requests import HTTPConnection

from realtime.acks import SocketError
from server import clock
from server.audit.service import record_access
from server.errors import MarkiniError
from server.scheduling.service import agenda_view, appointment_parties
from server.teleconsult.access import check_join, polite
from server.teleconsult.service import RESOURCE, start_session
from server.teleconsult.tokens import decode_join_token
from signaling import guests
from signaling.guests import Seat
from signaling.protocol import (
    AGENDA_WAITING,
    CALL_ADMITTED,
    CALL_PEER_JOINED,
    CALL_PEER_LEFT,
    CALL_REPLACED,
    CALL_WAITING,
    Admitted,
    CallJoined,
    CallJoinIn,
    LeftReason,
    PeerState,
    Relayed,
    WaitingNews,
)
from signaling.recorder import recorders_of
from signaling.rooms import emit_to
from signaling.seats import Call, other
from storage import teleconsult as store

if TYPE_CHECKING:
    from realtime.consult import ConsultContext

log = logging.getLogger(__name__)

# Per user, all devices and nodes: one negotiation is an offer or answer and a few dozen
# candidates; a client far above this is looping or flooding the other party.
SIGNAL_RATE_LIMIT = "300/10 seconds"
_RATE = parse(SIGNAL_RATE_LIMIT)


async def current_call(ctx: ConsultContext, session_id: uuid.UUID) -> Call:
    rows = await store.call_state(ctx.hub.engines.pool, session_id)
    if not rows:
        raise SocketError("not_found", "No such consultation.")
    sids = {r["role"]: r["sid"] for r in rows if r["role"] is not None}
    me = next((role for role, sid in sids.items() if sid == ctx.sid), None)
    if me is None:
        raise SocketError("not_joined", "Join the call first (call.join).")
    first = rows[0]
    return Call(
        session_id,
        first["appointment_id"],
        first["doctor_id"],
        first["status"],
        first["started_at"] is not None,
        me,  # presence roles are seats
        sids.get(other(me)) if me != "guest" else None,
        sids,
    )


async def join(ctx: ConsultContext, request: CallJoinIn) -> CallJoined:
    if ctx.guest is not None:
        return await guests.join(ctx, ctx.guest, request)
    engines = ctx.hub.engines
    claims = decode_join_token(engines.settings, request.join_token)
    row = await store.session_by_id(engines.pool, claims.session_id)
    parties = await appointment_parties(engines.pool, claims.appointment_id)
    try:
        if claims.user_id != ctx.principal.user_id:
            raise SocketError("forbidden", "This join token is someone else's.")
        if row is None or parties is None or row["room_id"] != claims.room_id:
            raise SocketError("not_found", "No such consultation.")
        # Again at the socket: the window may have closed, or the session ended, since.
        role = check_join(
            parties, row["status"], ctx.principal.user_id, engines.settings, clock.now()
        )
    except (SocketError, MarkiniError) as exc:
        await _audit_refusal(ctx, claims.session_id, exc)
        raise
    await ctx.enter(parties)  # the consult room: chat, and the on_leave hook when it drops
    async with engines.pool.acquire() as con:
        replaced = await store.claim_presence(
            con, row["id"], role, ctx.principal.user_id, ctx.sid, clock.now()
        )
        present = {r["role"]: r["sid"] for r in await store.presence_of(con, row["id"])}
        # Read again after claiming: the doctor may have admitted, or someone ended, meanwhile.
        row = await store.session_by_id(con, row["id"])
        if row is None or row["status"] not in ("scheduled", "active"):
            await store.release_presence(con, claims.session_id, ctx.sid)
            raise SocketError("conflict", "This consultation has ended.")
    session_id = str(row["id"])
    if replaced is not None:
        await emit_to(ctx.hub, replaced, CALL_REPLACED, {"session_id": session_id})
    started = row["started_at"] is not None
    admitted = role == "doctor" or started
    peer_sid = present.get(other(role))
    if peer_sid is not None:
        if replaced is not None:
            # The other party saw the replaced socket arrive: it sees it go before the new one
            # arrives, so that presence news always alternate (joined, left, joined...).
            gone = {"session_id": session_id, "role": role, "reason": "replaced"}
            await emit_to(ctx.hub, peer_sid, CALL_PEER_LEFT, gone)
        if admitted:
            news = {"session_id": session_id, "role": role, "resume": request.resume}
            await emit_to(ctx.hub, peer_sid, CALL_PEER_JOINED, news)
        else:
            await emit_to(ctx.hub, peer_sid, CALL_WAITING, _waiting_payload(session_id, ctx))
    call = Call(
        row["id"],
        row["appointment_id"],
        row["doctor_id"],
        row["status"],
        started,
        role,
        peer_sid,
        present,
    )
    guest = await guests.on_party_joined(
        ctx, call, replaced, admitted=admitted, resume=request.resume
    )
    if not admitted:
        await _agenda(ctx, call, parties.patient_id, waiting=True)
    return CallJoined(
        session_id=row["id"],
        appointment_id=row["appointment_id"],
        role=role,
        polite=polite(role),
        admitted=admitted,
        status=row["status"],
        peer=PeerState(
            role=other(role),
            present=peer_sid is not None,
            waiting=role == "doctor" and peer_sid is not None and not started,
        ),
        guest=guest,
    )


async def admit(ctx: ConsultContext, session_id: uuid.UUID) -> Admitted:
    call = await current_call(ctx, session_id)
    if call.me != "doctor":
        raise SocketError("forbidden", "Only the doctor admits the patient.")
    if call.peer_sid is None:
        raise SocketError("conflict", "Nobody is in the waiting room.")
    parties = ctx.require_joined(call.appointment_id)
    row = await start_session(
        ctx.hub.engines.pool, session_id, parties.patient_id, ctx.principal.user_id
    )
    started_at = row["started_at"]
    payload = {"session_id": str(session_id), "started_at": _iso(started_at)}
    await emit_to(ctx.hub, call.peer_sid, CALL_ADMITTED, payload)
    if not call.started:
        await _agenda(ctx, call, parties.patient_id, waiting=False)
    return Admitted(
        session_id=session_id,
        started_at=started_at,
        peer=PeerState(role="patient", present=True, waiting=False),
    )


async def relay(
    ctx: ConsultContext,
    session_id: uuid.UUID,
    event: str,
    body: Any,
    to: Seat | None = None,
) -> Relayed:
    """Pass one signaling message to another seat's socket: the other party by default, or
    `to` (a three-way call: each pair has its own connection), once admission happened."""
    call = await current_call(ctx, session_id)
    limiter = ctx.hub.engines.limiter
    if not await limiter.hit(_RATE, "signal", str(ctx.principal.user_id)):
        raise SocketError("rate_limited", f"Too many signaling messages ({SIGNAL_RATE_LIMIT}).")
    if call.me == "guest" or to == "guest":
        target = await guests.relay_target(ctx, call, to)
    else:
        if to is not None and to != other(call.me):
            raise SocketError("invalid_payload", "`to` names another seat of the call.")
        if not call.started:
            who = "Wait for the doctor to admit you." if call.me == "patient" else "Admit first."
            raise SocketError("forbidden", f"The call has not started: {who}")
        target = call.peer_sid
    if target is None:
        return Relayed(delivered=False)
    payload = {"session_id": str(session_id), "from": call.me, **body}
    await emit_to(ctx.hub, target, event, payload)
    return Relayed(delivered=True)


async def hangup(ctx: ConsultContext, session_id: uuid.UUID) -> dict[str, Any]:
    call = await current_call(ctx, session_id)
    await _leave_call(ctx, call, "hangup")
    return {"session_id": str(session_id), "in_call": False}


async def on_leave(ctx: ConsultContext, appointment_id: uuid.UUID) -> None:
    """The socket left the consultation room or dropped: it leaves the call too."""
    row = await store.session_by_appointment(ctx.hub.engines.pool, appointment_id)
    if row is None:
        return
    try:
        call = await current_call(ctx, row["id"])
    except SocketError:  # not in this call (chat only, or replaced by a newer socket)
        return
    await _leave_call(ctx, call, "left")


async def _leave_call(ctx: ConsultContext, call: Call, reason: LeftReason) -> None:
    pool = ctx.hub.engines.pool
    if await store.release_presence(pool, call.session_id, ctx.sid) is None:
        return
    if call.me == "guest":
        await guests.on_guest_left(ctx, call, reason)
        return
    await recorders_of(ctx.hub).stop(call.session_id, call.me, ctx.sid)
    if call.peer_sid is not None:
        news = {"session_id": str(call.session_id), "role": call.me, "reason": reason}
        await emit_to(ctx.hub, call.peer_sid, CALL_PEER_LEFT, news)
    await guests.on_party_left(ctx, call, reason)
    if call.me == "patient" and not call.started:
        parties = ctx.joined.get(call.appointment_id) or await appointment_parties(
            pool, call.appointment_id
        )
        if parties is not None:
            await _agenda(ctx, call, parties.patient_id, waiting=False)


async def _agenda(ctx: ConsultContext, call: Call, patient_id: uuid.UUID, *, waiting: bool) -> None:
    """Tell the doctor's /agenda who is (no longer) in this consultation's waiting room."""
    news = WaitingNews(
        session_id=call.session_id,
        appointment_id=call.appointment_id,
        patient_id=patient_id,
        patient=await agenda_view(ctx.hub.engines.pool, call.appointment_id),
        waiting=waiting,
        at=clock.now(),
    )
    await ctx.hub.notify_agenda(call.doctor_id, AGENDA_WAITING, news.model_dump(mode="json"))


def _waiting_payload(session_id: str, ctx: ConsultContext) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "patient_user_id": str(ctx.principal.user_id),
        "since": clock.now().isoformat(),
    }


async def _audit_refusal(ctx: ConsultContext, session_id: uuid.UUID, exc: Exception) -> None:
    status = exc.status if isinstance(exc, MarkiniError) else 403
    if isinstance(exc, SocketError) and exc.code == "not_found":
        status = 404
    environ = ctx.channel.server.get_environ(ctx.sid, ctx.channel.namespace) or {}
    scope = environ.get("asgi.scope")
    await record_access(
        ctx.hub.engines.pool,
        principal=ctx.principal,
        action="consultation.join_refused",
        resource_type=RESOURCE,
        resource_id=session_id,
        status=status,
        request=HTTPConnection(scope) if scope else None,
        payload={"reason": str(exc), "via": "socket"},
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
