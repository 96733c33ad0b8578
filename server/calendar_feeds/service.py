"""Feed rules: make, revoke and read a user's private feed.

The secret URL authenticates as its owner for this one read-only purpose: the feed lists what
the owner's appointment lists show (through the scheduling service, so the same rules), and
each read is audited as the owner's. Built on each request from PostgreSQL, so it reflects every
change (booking, move, cancellation) at the calendar app's next poll.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg
from starlette.requests import HTTPConnection

from server import clock
from server.audit.service import record_access, record_change
from server.auth.principal import Principal, Role
from server.auth.tokens import hash_token, new_opaque_token
from server.calendar_feeds.errors import ADMINS_NO_FEED, NO_FEED_LINK, NO_SUCH_CALENDAR
from server.calendar_feeds.ics import FeedItem, calendar
from server.calendar_feeds.schemas import FeedCreated, FeedState
from server.engines import Engines
from server.errors import Forbidden, NotFound
from server.scheduling import service as scheduling
from server.scheduling.access import resolve_caller
from storage import calendar_feeds as store
from storage import parties

FEED_PATH = "/calendar"
PAST = timedelta(days=30)
FUTURE = timedelta(days=366)
MAX_EVENTS = 2000


async def create_feed(pool: asyncpg.Pool, principal: Principal) -> FeedCreated:
    """A new secret link; the previous one stops working. Patients and doctors only."""
    if principal.role == "admin":
        raise Forbidden(ADMINS_NO_FEED)
    token = new_opaque_token()
    now = clock.now()
    async with pool.acquire() as con, con.transaction():
        feed_id = await store.replace_feed(con, principal.user_id, hash_token(token), now)
        await record_change(con, resource_id=feed_id)
    return FeedCreated(url=f"{FEED_PATH}/{token}.ics", created_at=now)


async def revoke_feed(pool: asyncpg.Pool, principal: Principal) -> None:
    async with pool.acquire() as con, con.transaction():
        if not await store.revoke_feed(con, principal.user_id, clock.now()):
            raise NotFound(NO_FEED_LINK)
        await record_change(con)


async def feed_state(pool: asyncpg.Pool, principal: Principal) -> FeedState:
    async with pool.acquire() as con:
        live = await store.live_feed(con, principal.user_id)
    return FeedState(active=live is not None, created_at=live["created_at"] if live else None)


async def render_feed(engines: Engines, token: str, request: HTTPConnection) -> bytes:
    """The owner's calendar; NotFound for an unknown or revoked token (or a suspended owner)."""
    async with engines.pool.acquire() as con:
        feed = await store.feed_owner(con, hash_token(token))
    if feed is None:
        raise NotFound(NO_SUCH_CALENDAR)
    role: Role = feed["role"]
    # The feed acts as its owner; its id stands in for a session id in the audit trail.
    owner = Principal(feed["user_id"], role, feed["id"])
    now = clock.now()
    query = scheduling.ListQuery(now - PAST, now + FUTURE, None, MAX_EVENTS, 0)
    caller = await resolve_caller(engines.pool, owner)
    if caller.doctor_id is not None:
        page = await scheduling.list_for_doctor(engines, owner, caller.doctor_id, query, request)
        items = [FeedItem(a, _patient_title(a.patient), a.location) for a in page.items]
        name = "Markini agenda"
    elif caller.patient_id is not None:
        page = await scheduling.list_for_patient(engines, owner, caller.patient_id, query, request)
        doctors = await _doctors({a.doctor_id for a in page.items}, engines.pool)
        items = [
            FeedItem(a, f"Dr {doctors.get(a.doctor_id, '')}".strip(), a.location)
            for a in page.items
        ]
        name = "Markini appointments"
    else:
        raise NotFound(NO_SUCH_CALENDAR)
    await record_access(
        engines.pool,
        principal=owner,
        action="calendar_feed.read",
        resource_type="calendar_feed",
        resource_id=feed["id"],
        request=request,
        payload={"events": len(items)},
    )
    return calendar(name, items, now)


def _patient_title(patient: object | None) -> str:
    first = getattr(patient, "first_name", "")
    last = getattr(patient, "last_name", "")
    return f"{first} {last}".strip() or "Patient"


async def _doctors(ids: set[uuid.UUID], pool: asyncpg.Pool) -> dict[uuid.UUID, str]:
    async with pool.acquire() as con:
        rows = await parties.doctors_by_ids(con, list(ids))
    return {r["id"]: f"{r['first_name']} {r['last_name']}" for r in rows}
