"""A third participant: invited by a party with a single-use link, admitted by the doctor.

Design: docs/realtime.md ("Third participant"). The link carries 256 random bits; only their
SHA-256 is stored. It is valid for its session only and expires with it (the session ended, or
its joining window closed). Using it (POST .../invites/{token}/use) spends it at once and hands
out a guest token for `/consult`; the doctor then admits or refuses the invitee from the waiting
room (signaling/guests.py). An invitee reads the doctor's name and the time, nothing else.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid

import asyncpg
from starlette.requests import HTTPConnection

from server import clock
from server.audit.service import record_access, record_change
from server.auth.principal import Principal
from server.engines import Engines
from server.errors import MarkiniError, NotFound
from server.scheduling.service import Parties
from server.teleconsult.access import call_role, check_window, join_window
from server.teleconsult.errors import (
    ADMINS_NEVER_JOIN,
    INVITE_EXPIRED,
    INVITE_ONE_GUEST,
    INVITE_REVOKED,
    INVITE_USED,
    NO_SUCH_INVITE,
    InviteUnusable,
)
from server.teleconsult.guests import issue_guest_token
from server.teleconsult.schemas import GuestIn, GuestOut, InviteCreated, InviteOut, InvitePreview
from server.teleconsult.service import RESOURCE, open_session_role, session_and_parties
from server.teleconsult.turn import ice_servers
from storage import consult_invites as store

INVITE_RESOURCE = "teleconsultation_invite"
TOKEN_BYTES = 32


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def render(row: asyncpg.Record) -> InviteOut:
    return InviteOut(
        id=row["id"],
        session_id=row["session_id"],
        status=row["status"],
        created_at=row["created_at"],
        display_name=row["display_name"],
        guest_role=row["guest_role"],
        used_at=row["used_at"],
        decided_at=row["decided_at"],
    )


async def create_invite(
    engines: Engines, principal: Principal, session_id: uuid.UUID
) -> InviteCreated:
    """Either party of an open session invites; the link is in this answer only."""
    row, _parties, _role = await open_session_role(
        engines.pool, principal, session_id, ADMINS_NEVER_JOIN
    )
    token = secrets.token_urlsafe(TOKEN_BYTES)
    async with engines.pool.acquire() as con, con.transaction():
        invite = await store.insert_invite(
            con, row["id"], token_hash(token), principal.user_id, clock.now()
        )
        await record_change(con, resource_id=invite["id"])
    return InviteCreated(**render(invite).model_dump(), token=token, path=f"/invite/{token}")


async def list_invites(
    engines: Engines, principal: Principal, session_id: uuid.UUID
) -> list[InviteOut]:
    await open_session_role(engines.pool, principal, session_id, ADMINS_NEVER_JOIN)
    return [render(r) for r in await store.invites_of(engines.pool, session_id)]


async def revoke_invite(
    engines: Engines, principal: Principal, session_id: uuid.UUID, invite_id: uuid.UUID
) -> InviteOut:
    """A party withdraws a link not used yet (a used one: 409 invite-used)."""
    await open_session_role(engines.pool, principal, session_id, ADMINS_NEVER_JOIN)
    async with engines.pool.acquire() as con, con.transaction():
        row = await store.invite_by_id(con, invite_id)
        if row is None or row["session_id"] != session_id:
            raise NotFound(NO_SUCH_INVITE)
        if row["status"] == "revoked":
            return render(row)
        revoked = await store.decide_invite(
            con, invite_id, ("pending",), "revoked", principal.user_id, clock.now()
        )
        if revoked is None:
            raise InviteUnusable(INVITE_USED)
        await record_change(con, resource_id=invite_id)
    return render(revoked)


async def _usable(engines: Engines, token: str) -> tuple[asyncpg.Record, asyncpg.Record, Parties]:
    """The pending invite, its session and parties; 404 / 409 otherwise."""
    if not 20 <= len(token) <= 100:
        raise NotFound(NO_SUCH_INVITE)
    invite = await store.invite_by_hash(engines.pool, token_hash(token))
    if invite is None:
        raise NotFound(NO_SUCH_INVITE)
    session, parties = await session_and_parties(engines.pool, invite["session_id"])
    _closes = join_window(parties, engines.settings)[1]
    if session["status"] not in ("scheduled", "active") or clock.now() > _closes:
        raise InviteUnusable(INVITE_EXPIRED)
    if invite["status"] == "revoked" and invite["used_at"] is None:
        raise InviteUnusable(INVITE_REVOKED)
    if invite["status"] != "pending":  # also spent by an invitee who left for good
        raise InviteUnusable(INVITE_USED)
    return invite, session, parties


async def preview(engines: Engines, token: str) -> InvitePreview:
    """What the link's page shows before use: the doctor's name and the time, nothing else."""
    invite, session, parties = await _usable(engines, token)
    opens, closes = join_window(parties, engines.settings)
    return InvitePreview(
        doctor_name=await store.doctor_name(engines.pool, parties.doctor_id) or "",
        start=parties.start,
        end=parties.end,
        join_opens_at=opens,
        join_closes_at=closes,
    )


async def _refused(
    engines: Engines, principal: Principal | None, request: HTTPConnection, exc: MarkiniError
) -> None:
    await record_access(
        engines.pool,
        principal=principal,
        action="consultation.invite_use_refused",
        resource_type=INVITE_RESOURCE,
        resource_id=None,
        status=exc.status,
        request=request,
        payload={"reason": exc.title},
    )


async def use_invite(
    engines: Engines,
    principal: Principal | None,
    token: str,
    body: GuestIn,
    request: HTTPConnection,
) -> GuestOut:
    """Spend the link: the invitee says who they are and gets a guest token for /consult."""
    try:
        invite, session, parties = await _usable(engines, token)
        if principal is not None and call_role(parties, principal.user_id) is not None:
            raise InviteUnusable(INVITE_USED)  # a party joins as itself, never as a guest
        check_window(parties, engines.settings, clock.now())
        others = await store.invites_of(engines.pool, session["id"])
        if any(r["status"] in ("waiting", "admitted") for r in others):
            raise InviteUnusable(INVITE_ONE_GUEST)  # one third seat per call
    except MarkiniError as exc:
        await _refused(engines, principal, request, exc)
        raise
    user_id = principal.user_id if principal is not None else None
    try:
        async with engines.pool.acquire() as con, con.transaction():
            if await store.seat_taken(con, session["id"]):  # another link used at once
                raise InviteUnusable(INVITE_ONE_GUEST)
            used = await store.use_invite(
                con, token_hash(token), body.display_name, body.role, user_id, clock.now()
            )
            if used is None:  # spent by a concurrent request
                raise InviteUnusable(INVITE_USED)
            await record_change(con, resource_id=used["id"])
    except MarkiniError as exc:
        await _refused(engines, principal, request, exc)
        raise
    guest_token, expires = issue_guest_token(
        engines.settings,
        invite_id=used["id"],
        session_id=session["id"],
        appointment_id=session["appointment_id"],
        room_id=session["room_id"],
        expires_at=join_window(parties, engines.settings)[1],
    )
    await record_access(
        engines.pool,
        principal=principal,
        action="consultation.invite_used",
        resource_type=RESOURCE,
        resource_id=session["id"],
        request=request,
        payload={"invite_id": str(used["id"]), "role": body.role},
    )
    return GuestOut(
        invite_id=used["id"],
        session_id=session["id"],
        appointment_id=session["appointment_id"],
        guest_token=guest_token,
        expires_at=expires,
        display_name=body.display_name,
        role=body.role,
        doctor_name=await store.doctor_name(engines.pool, parties.doctor_id) or "",
        start=parties.start,
        ice_servers=ice_servers(engines.settings, used["id"]),
    )
