"""Family and proxy booking (issue #24): an account manages relatives' patient profiles.

A relative made here is a patient profile without a login, linked to the proxy account with the
consent on record (who consented, when, on what basis) and whether the proxy may see the medical
history. The proxy then books, moves and cancels for them (server.scheduling: the appointment's
patient is the relative, created_by the proxy) and reaches their profile through
server.patients.access ("proxy" relation). Every change here is audited in its transaction.
"""

from __future__ import annotations

import logging
import uuid
from zoneinfo import ZoneInfo

import asyncpg

from bus.events import PATIENT_CREATED, PATIENT_DELETED, PATIENT_UPDATED
from server import clock
from server.audit.service import record_change
from server.auth.principal import Principal
from server.errors import Conflict, InvalidInput
from server.patients.errors import (
    CONSENT_MISFIT,
    NO_SUCH_RELATIVE,
    RELATIVE_STILL_BOOKED,
    PatientNotFound,
)
from server.patients.events import emit_changed, emit_revoked
from server.patients.ports import LiveAccess
from server.patients.schemas import (
    RelativeCreate,
    RelativeOut,
    RelativeUpdate,
    UpcomingAppointment,
    consent_misfit,
)
from server.waitlist.service import withdraw_proxy
from storage import patients as patient_store
from storage import relatives as store

log = logging.getLogger(__name__)


def to_out(row: asyncpg.Record) -> RelativeOut:
    return RelativeOut(
        id=row["relative_id"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        date_of_birth=row["date_of_birth"],
        gender=row["gender"],
        relationship=row["relationship"],
        consent={"basis": row["consent_basis"], "at": row["consent_at"], "by": row["consent_by"]},
        can_view_history=row["can_view_history"],
        has_own_login=row["user_id"] is not None,
        linked_at=row["linked_at"],
    )


async def list_relatives(pool: asyncpg.Pool, principal: Principal) -> list[RelativeOut]:
    async with pool.acquire() as con:
        rows = await store.list_relatives(con, principal.user_id)
    return [to_out(r) for r in rows]


async def _link(
    con: asyncpg.Connection, principal: Principal, relative_id: uuid.UUID
) -> asyncpg.Record:
    row = await store.active_link(con, principal.user_id, relative_id, for_update=True)
    if row is None:  # someone else's relative, or nobody's: the same 404
        raise PatientNotFound(NO_SUCH_RELATIVE)
    return row


async def get_relative(
    pool: asyncpg.Pool, principal: Principal, relative_id: uuid.UUID
) -> RelativeOut:
    async with pool.acquire() as con:
        row = await store.active_link(con, principal.user_id, relative_id)
    if row is None:
        raise PatientNotFound(NO_SUCH_RELATIVE)
    return to_out(row)


async def add_relative(
    pool: asyncpg.Pool, principal: Principal, body: RelativeCreate
) -> RelativeOut:
    async with pool.acquire() as con, con.transaction():
        relative_id = await store.insert_relative(
            con,
            proxy_user_id=principal.user_id,
            first_name=body.first_name,
            last_name=body.last_name,
            date_of_birth=body.date_of_birth,
            gender=body.gender,
            relationship=body.relationship,
            consent_basis=body.consent_basis,
            can_view_history=body.can_view_history,
            now=clock.now(),
        )
        await emit_changed(con, PATIENT_CREATED, relative_id, actor=str(principal.user_id))
        row = await store.active_link(con, principal.user_id, relative_id)
        await record_change(con, resource_id=relative_id)
    assert row is not None
    log.info("relative added", extra={"relative_id": str(relative_id)})
    return to_out(row)


async def update_relative(
    pool: asyncpg.Pool, principal: Principal, relative_id: uuid.UUID, body: RelativeUpdate
) -> RelativeOut:
    # A null name or relationship keeps the value; a null birth date or gender clears it.
    changes = {
        k: v
        for k, v in body.model_dump(exclude_unset=True).items()
        if v is not None or k in {"date_of_birth", "gender"}
    }
    async with pool.acquire() as con, con.transaction():
        link = await _link(con, principal, relative_id)
        profile_keys = {"first_name", "last_name", "date_of_birth", "gender"}
        if changes.keys() & profile_keys and link["user_id"] is None:
            # A relative with their own login edits their own profile; else the proxy does.
            patient = await patient_store.get_patient(con, relative_id, for_update=True)
            assert patient is not None
            fields = {k: patient[k] for k in patient_store.PatientFields.__annotations__}
            fields |= {k: v for k, v in changes.items() if k in profile_keys}
            await patient_store.update_patient(con, relative_id, fields, clock.now())  # type: ignore[arg-type]
            await emit_changed(con, PATIENT_UPDATED, relative_id, actor=str(principal.user_id))
        basis = changes.get("consent_basis") or link["consent_basis"]
        born = changes["date_of_birth"] if "date_of_birth" in changes else link["date_of_birth"]
        misfit = consent_misfit(basis, born)
        if misfit is not None:
            raise InvalidInput(CONSENT_MISFIT, [misfit.at("consent_basis")])
        reconsented = "consent_basis" in changes
        await store.update_link(
            con,
            link["link_id"],
            relationship=changes.get("relationship") or link["relationship"],
            consent_basis=basis,
            can_view_history=link["can_view_history"]
            if body.can_view_history is None
            else body.can_view_history,
            consent_at=clock.now() if reconsented else link["consent_at"],
            consent_by=principal.user_id if reconsented else link["consent_by"],
        )
        row = await store.active_link(con, principal.user_id, relative_id)
        await record_change(con, resource_id=relative_id)
    assert row is not None
    return to_out(row)


# (user id, patient id): a user who no longer acts for a patient.
Revoked = list[tuple[uuid.UUID, uuid.UUID]]


async def remove_relative(
    pool: asyncpg.Pool, live: LiveAccess, principal: Principal, relative_id: uuid.UUID
) -> bool:
    """The link goes (kept revoked, so past bookings still say who booked) with the proxy's
    waitlist entries for the relative (left as a leave does: an open offer declined, its slot
    passed on); a relative nobody else looks after (no own login, no other proxy; a suspended
    one still counts here) is erased like a GDPR erasure. True then.

    Raises PatientNotFound (404 `no-such-relative`), or Conflict (409
    `relative-has-upcoming-appointments`, nothing changed) when nobody else looks after the
    relative and they have upcoming appointments (`appointments`: UpcomingAppointment shapes;
    a waitlist offer's hold is not one, it is declined with the entry): once the link goes,
    nobody would hear of those.

    The proxy's sockets leave the relative's consultation rooms (chat, call) at once, on
    every node (`patient.proxy_revoked`)."""
    now = clock.now()
    revoked = [(principal.user_id, relative_id)]
    async with pool.acquire() as con, con.transaction():
        link = await _link(con, principal, relative_id)
        # Two proxies removing the same relative at once take turns here: the second then
        # sees the first one's link revoked, so the relative never ends up with nobody.
        await patient_store.get_patient(con, relative_id, for_update=True)
        alone = not await store.other_carers(con, relative_id, principal.user_id)
        await store.revoke_link(con, link["link_id"], now)
        await emit_revoked(con, revoked, actor=str(principal.user_id))
        # Before the check: a waitlist offer's hold goes with the entry, so it blocks nothing
        # (a 409 below rolls this back with the rest).
        await withdraw_proxy(con, principal, principal.user_id, [relative_id])
        if alone:
            upcoming = await store.upcoming_appointments(con, relative_id, now)
            if upcoming:
                raise Conflict(
                    RELATIVE_STILL_BOOKED,
                    params={"count": len(upcoming)},
                    appointments=[upcoming_out(r).model_dump(mode="json") for r in upcoming],
                )
        # Nobody else acts, yet a suspended login or proxy may still be linked: not erased
        # (suspension is reversible).
        erase = alone and not await store.other_links(con, relative_id, principal.user_id)
        if erase:
            await patient_store.erase_patient(con, relative_id, now)
            await emit_changed(con, PATIENT_DELETED, relative_id, actor=str(principal.user_id))
            log.info("relative erased", extra={"relative_id": str(relative_id)})
        await record_change(con, resource_id=relative_id)
    await live.end_access(revoked)  # after the commit: never before
    return erase


def upcoming_out(row: asyncpg.Record) -> UpcomingAppointment:
    zone = ZoneInfo(row["time_zone"])  # instants with the practice's offset, as appointments
    return UpcomingAppointment(
        id=row["id"],
        start=row["start_at"].astimezone(zone),
        end=row["end_at"].astimezone(zone),
        status=row["status"],
        visit_type=row["visit_type"],
        doctor_id=row["doctor_id"],
        doctor_name=row["doctor_name"],
        time_zone=row["time_zone"],
    )


async def release_relative(
    con: asyncpg.Connection, principal: Principal, relative_id: uuid.UUID
) -> Revoked:
    """The relative is erased on their own (by an admin): every link revoked and each
    proxy's waitlist entries for them withdrawn (in the caller's transaction). Returns the
    revoked (proxy user id, relative id) pairs, for LiveAccess after the commit."""
    revoked = [
        (proxy_user_id, relative_id)
        for proxy_user_id in await store.revoke_all_for_relative(con, relative_id, clock.now())
    ]
    await emit_revoked(con, revoked, actor=str(principal.user_id))
    for proxy_user_id, _ in revoked:
        await withdraw_proxy(con, principal, proxy_user_id, [relative_id])
    return revoked


async def release_all(
    con: asyncpg.Connection, principal: Principal, proxy_user_id: uuid.UUID
) -> Revoked:
    """The proxy's account is erased: every link revoked and the proxy's waitlist entries for
    them withdrawn; relatives nobody else looks after are erased too (in the caller's
    transaction). Returns the revoked (proxy user id, relative id) pairs, for LiveAccess after
    the commit."""
    now = clock.now()
    relative_ids = await store.revoke_all_for_proxy(con, proxy_user_id, now)
    revoked = [(proxy_user_id, relative_id) for relative_id in relative_ids]
    await emit_revoked(con, revoked, actor=str(principal.user_id))
    await withdraw_proxy(con, principal, proxy_user_id, relative_ids)
    for relative_id in relative_ids:
        # other_links, not other_carers: a suspended proxy's relative is not erased.
        if not await store.other_links(con, relative_id, proxy_user_id):
            await patient_store.erase_patient(con, relative_id, now)
            await emit_changed(con, PATIENT_DELETED, relative_id, actor=str(principal.user_id))
    return revoked
