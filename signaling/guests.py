"""The call's third seat: an invitee (carer, interpreter, second clinician) who used a party's
invitation link (server/teleconsult/invites.py) joins with its guest token, waits, and is
admitted or refused by the doctor. docs/realtime.md, "Third participant".

Three seats make a full mesh: the guest has its own connection with each party present and
admitted, makes the offer on each (it learns of each party by `call.admitted` / `call.peer_joined`)
and is the polite peer on both. Relays name the seat (`to`); the patient <-> doctor link is as
before. The invitee never enters the consultation room before admission (no chat), and reads
chat only from its admission on (realtime/chat.py).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from starlette.requests import HTTPConnection

from realtime.acks import SocketError
from realtime.consult import consult_room
from realtime.protocol import CONSULT_NS
from server import clock
from server.audit.service import record_access
from server.errors import MarkiniError
from server.scheduling.service import appointment_parties
from server.teleconsult.access import OPEN_SESSION, check_window
from server.teleconsult.guests import GuestClaims, decode_guest_token
from server.teleconsult.service import RESOURCE
from signaling.protocol import (
    CALL_ADMITTED,
    CALL_GUEST_WAITING,
    CALL_PEER_JOINED,
    CALL_PEER_LEFT,
    CALL_REFUSED,
    CALL_REPLACED,
    CallJoined,
    CallJoinIn,
    GuestState,
    LeftReason,
    PeerState,
    Seat,
)
from signaling.rooms import emit_to, guest_room
from signaling.seats import Call
from storage import consult_invites as invites
from storage import teleconsult as store

if TYPE_CHECKING:
    import asyncpg

    from realtime.consult import ConsultContext

__all__ = ["Seat", "admit", "join", "refuse"]


def _state(row: asyncpg.Record, present: bool = True) -> GuestState:
    return GuestState(
        invite_id=row["id"],
        display_name=row["display_name"],
        role=row["guest_role"],
        status=row["status"],
        present=present,
    )


def _news(session_id: uuid.UUID, row: asyncpg.Record, **extra: Any) -> dict[str, Any]:
    """call.peer_joined / call.peer_left / call.guest_waiting about the guest."""
    return {
        "session_id": str(session_id),
        "role": "guest",
        "invite_id": str(row["id"]),
        "display_name": row["display_name"],
        "guest_role": row["guest_role"],
        **extra,
    }


async def _audit(
    ctx: ConsultContext,
    action: str,
    session_id: uuid.UUID,
    invite_id: uuid.UUID,
    status: int = 200,
    **payload: Any,
) -> None:
    """Guest actions have no account behind them (principal None); the invite names them."""
    environ = ctx.channel.server.get_environ(ctx.sid, ctx.channel.namespace) or {}
    scope = environ.get("asgi.scope")
    await record_access(
        ctx.hub.engines.pool,
        principal=None if ctx.guest is not None else ctx.principal,
        action=action,
        resource_type=RESOURCE,
        resource_id=session_id,
        status=status,
        request=HTTPConnection(scope) if scope else None,
        payload={"invite_id": str(invite_id), **payload},
    )


async def join(ctx: ConsultContext, guest: GuestClaims, request: CallJoinIn) -> CallJoined:
    """The invitee's call.join (its guest token again): the waiting room, or back in the call
    after a drop if it was admitted already."""
    engines = ctx.hub.engines
    claims = decode_guest_token(engines.settings, request.join_token)
    pool = engines.pool
    session = await store.session_by_id(pool, claims.session_id)
    parties = await appointment_parties(pool, claims.appointment_id)
    invite = await invites.invite_by_id(pool, claims.invite_id)
    try:
        if claims.invite_id != guest.invite_id:
            raise SocketError("forbidden", "This guest token is someone else's.")
        if session is None or parties is None or invite is None:
            raise SocketError("not_found", "No such consultation.")
        if session["room_id"] != claims.room_id or invite["session_id"] != session["id"]:
            raise SocketError("not_found", "No such consultation.")
        if session["status"] not in OPEN_SESSION:
            raise SocketError("conflict", "This consultation has ended.")
        if invite["status"] not in ("waiting", "admitted"):
            raise SocketError("forbidden", f"This invitation is {invite['status']}.")
        check_window(parties, engines.settings, clock.now())
    except (SocketError, MarkiniError) as exc:
        status = exc.status if isinstance(exc, MarkiniError) else 403
        await _audit(
            ctx,
            "consultation.guest_join_refused",
            claims.session_id,
            claims.invite_id,
            status,
            reason=str(exc),
        )
        raise
    # Known to the socket (its on_leave hook runs when it drops), but not in the room: chat and
    # room news reach the invitee only once admitted (its chat `join` enters the room).
    ctx.joined[parties.appointment_id] = parties
    await ctx.channel.enter_room(ctx.sid, guest_room(parties.appointment_id))  # call.ended only
    async with pool.acquire() as con:
        replaced = await store.claim_presence(
            con, session["id"], "guest", invite["id"], ctx.sid, clock.now()
        )
        present = {r["role"]: r["sid"] for r in await store.presence_of(con, session["id"])}
    await _audit(
        ctx, "consultation.guest_join", session["id"], invite["id"], invite_status=invite["status"]
    )
    if replaced is not None:
        await emit_to(ctx.hub, replaced, CALL_REPLACED, {"session_id": str(session["id"])})
    admitted = invite["status"] == "admitted"
    started = session["started_at"] is not None
    for seat in ("doctor", "patient"):
        sid = present.get(seat)
        if sid is None or (seat == "patient" and not started):
            continue  # a patient in the waiting room hears of nobody
        if replaced is not None and (admitted or seat == "doctor"):
            await emit_to(
                ctx.hub, sid, CALL_PEER_LEFT, _news(session["id"], invite, reason="replaced")
            )
        if admitted:
            news = _news(session["id"], invite, resume=request.resume)
            await emit_to(ctx.hub, sid, CALL_PEER_JOINED, news)
        elif seat == "doctor":
            waiting = _news(session["id"], invite, since=clock.now().isoformat())
            await emit_to(ctx.hub, sid, CALL_GUEST_WAITING, waiting)
    return CallJoined(
        session_id=session["id"],
        appointment_id=session["appointment_id"],
        role="guest",
        polite=True,
        admitted=admitted,
        status=session["status"],
        peer=PeerState(role="doctor", present="doctor" in present, waiting=False),
        guest=_state(invite),
    )


async def on_party_joined(
    ctx: ConsultContext, call: Call, replaced: str | None, *, admitted: bool, resume: bool
) -> GuestState | None:
    """A party joined: the guest hears of it (if both are in the call); the party's ack says
    who the guest is (the doctor's also an invitee who dropped but holds the seat, `present:
    false`, so that the doctor may free it with call.refuse_guest)."""
    if "guest" not in call.sids:
        if call.me != "doctor":
            return None
        holder = await invites.seat_holder(ctx.hub.engines.pool, call.session_id)
        return None if holder is None else _state(holder, present=holder["sid"] is not None)
    row = await invites.seated_guest(ctx.hub.engines.pool, call.session_id)
    if row is None:
        return None
    if admitted and row["status"] == "admitted":
        news = {"session_id": str(call.session_id), "role": call.me}
        if replaced is not None:
            await emit_to(ctx.hub, row["sid"], CALL_PEER_LEFT, {**news, "reason": "replaced"})
        await emit_to(ctx.hub, row["sid"], CALL_PEER_JOINED, {**news, "resume": resume})
    if call.me == "patient" and row["status"] != "admitted":
        return None  # the patient learns of an invitee only once the doctor admitted them
    return _state(row)


async def relay_target(ctx: ConsultContext, call: Call, to: Seat | None) -> str | None:
    """The socket a relay to or from the guest goes to; refusals as SocketError."""
    if call.me == "guest" and to not in ("doctor", "patient"):
        raise SocketError("invalid_payload", "The guest names the seat: `to` doctor or patient.")
    row = await invites.seated_guest(ctx.hub.engines.pool, call.session_id)
    if row is None:
        return None
    if row["status"] != "admitted":
        raise SocketError("forbidden", "The doctor has not admitted the guest.")
    if "patient" in (call.me, to) and not call.started:
        raise SocketError("forbidden", "The call has not started: the patient is not in yet.")
    if call.me == "guest":
        assert to is not None
        return call.sids.get(to)
    sid: str = row["sid"]
    return sid


async def on_guest_left(ctx: ConsultContext, call: Call, reason: LeftReason) -> None:
    """The guest's socket left the call (its presence is released): the parties hear of it.
    A drop (`left`) keeps the seat for a comeback with the same guest token; the invitee's own
    `call.hangup` is leaving for good: the invitation becomes `revoked` (its `used_at` set), the
    seat is free for a new link and the guest token serves no more."""
    pool = ctx.hub.engines.pool
    invite = await invites.invite_by_id(pool, ctx.principal.user_id)
    if invite is None:
        return
    if reason == "hangup":
        gone = await invites.decide_invite(
            pool, invite["id"], ("waiting", "admitted"), "revoked", invite["user_id"], clock.now()
        )
        if gone is not None:
            await _audit(ctx, "consultation.invite_left", call.session_id, invite["id"])
            await ctx.hub.sio.leave_room(
                ctx.sid, consult_room(call.appointment_id), namespace=CONSULT_NS
            )
    for seat, sid in call.others().items():
        if seat == "patient" and invite["status"] != "admitted":
            continue
        await emit_to(ctx.hub, sid, CALL_PEER_LEFT, _news(call.session_id, invite, reason=reason))


async def on_party_left(ctx: ConsultContext, call: Call, reason: LeftReason) -> None:
    guest_sid = call.sids.get("guest")
    if guest_sid is None:
        return
    row = await invites.seated_guest(ctx.hub.engines.pool, call.session_id)
    if row is not None and row["status"] == "admitted":
        news = {"session_id": str(call.session_id), "role": call.me, "reason": reason}
        await emit_to(ctx.hub, guest_sid, CALL_PEER_LEFT, news)


async def _doctor_and_guest(ctx: ConsultContext, call: Call, verb: str) -> asyncpg.Record:
    if call.me != "doctor":
        raise SocketError("forbidden", f"Only the doctor {verb} the invitee.")
    row = await invites.seated_guest(ctx.hub.engines.pool, call.session_id)
    if row is None or row["status"] != "waiting":
        raise SocketError("conflict", "No invitee is in the waiting room.")
    return row


async def _decide(ctx: ConsultContext, call: Call, row: asyncpg.Record) -> asyncpg.Record:
    pool, doctor = ctx.hub.engines.pool, ctx.principal.user_id
    decided = await invites.decide_invite(
        pool, row["id"], ("waiting",), "admitted", doctor, clock.now()
    )
    if decided is None:
        raise SocketError("conflict", "No invitee is in the waiting room.")
    await _audit(ctx, "consultation.invite_admitted", call.session_id, row["id"])
    return decided


async def admit(ctx: ConsultContext, call: Call) -> GuestState:
    """The doctor lets the invitee in: it offers to the doctor (and to the patient if in)."""
    session_id = call.session_id
    row = await _doctor_and_guest(ctx, call, "admits")
    decided = await _decide(ctx, call, row)
    peers = [
        seat
        for seat in ("doctor", "patient")
        if seat in call.sids and (seat == "doctor" or call.started)
    ]
    payload = {"session_id": str(session_id), "peers": peers}
    await emit_to(ctx.hub, row["sid"], CALL_ADMITTED, payload)
    patient_sid = call.sids.get("patient")
    if patient_sid is not None and call.started:
        await emit_to(
            ctx.hub, patient_sid, CALL_PEER_JOINED, _news(session_id, decided, resume=False)
        )
    return _state(decided)


async def refuse(ctx: ConsultContext, call: Call) -> dict[str, Any]:
    """The doctor turns the invitee away, waiting or admitted, connected or dropped: the seat is
    freed (a new link may be used), the link stays spent and the guest token serves no more."""
    if call.me != "doctor":
        raise SocketError("forbidden", "Only the doctor refuses or removes the invitee.")
    pool = ctx.hub.engines.pool
    row = await invites.seat_holder(pool, call.session_id)
    decided = None
    if row is not None:
        decided = await invites.decide_invite(
            pool, row["id"], ("waiting", "admitted"), "refused", ctx.principal.user_id, clock.now()
        )
    if row is None or decided is None:
        raise SocketError("conflict", "No invitee holds the seat.")
    was = row["status"]
    await _audit(
        ctx,
        "consultation.invite_refused",
        call.session_id,
        row["id"],
        was=was,
        present=row["sid"] is not None,
    )
    sid = row["sid"]
    if sid is not None and await store.release_presence(pool, call.session_id, sid) is not None:
        await emit_to(ctx.hub, sid, CALL_REFUSED, {"session_id": str(call.session_id)})
        # Out of the chat too (on whichever node its socket is): it read from its admission on.
        await ctx.hub.sio.leave_room(sid, consult_room(call.appointment_id), namespace=CONSULT_NS)
        patient_sid = call.sids.get("patient")
        if was == "admitted" and patient_sid is not None and call.started:
            news = _news(call.session_id, row, reason="refused")
            await emit_to(ctx.hub, patient_sid, CALL_PEER_LEFT, news)
    return {"session_id": str(call.session_id), "invite_id": str(row["id"]), "status": "refused"}
