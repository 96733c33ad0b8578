"""State changes of an appointment (cancel, confirm, complete, no-show, pay, expire).

Each runs in one transaction with its events; those that free or take a slot bump the doctor's
availability version first (that row lock is always taken before the appointment's).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from bus import events
from server import clock
from server.audit.service import record_change
from server.auth.principal import Principal
from server.crypto import FieldCipher
from server.engines import Engines
from server.errors import NO_SUCH_APPOINTMENT, NotFound
from server.scheduling.access import acts_as_proxy, require_party, resolve_caller
from server.scheduling.appointments import render_appointment
from server.scheduling.cancellation import require_cancel_reason
from server.scheduling.errors import (
    NOBODY_ACTS,
    NOT_AN_EXPIRED_HOLD,
    SlotTaken,
    TransitionRefused,
)
from server.scheduling.events import appointment_payload, emit_appointment, emit_slot, slot_payload
from server.scheduling.proxy import record_proxy_action
from server.scheduling.release import release_slot
from server.scheduling.schemas import AppointmentOut
from server.scheduling.state_machine import Action, Party, check_transition
from storage.errors import ConstraintViolation
from storage.relatives import share_acted_for
from storage.scheduling import appointments as store
from storage.scheduling.versions import bump_version, current_version

APPOINTMENT_EVENT: dict[str, str] = {
    "pay": events.APPOINTMENT_UPDATED,
    "claim": events.APPOINTMENT_UPDATED,
    "retake": events.APPOINTMENT_UPDATED,
    "confirm": events.APPOINTMENT_CONFIRMED,
    "cancel": events.APPOINTMENT_CANCELLED,
    "expire": events.APPOINTMENT_CANCELLED,
    "complete": events.APPOINTMENT_COMPLETED,
    "no_show": events.APPOINTMENT_NO_SHOW,
}
SLOT_EVENT: dict[str, str] = {
    "pay": events.SLOT_BOOKED,
    "claim": events.SLOT_BOOKED,
    "retake": events.SLOT_BOOKED,
    "cancel": events.SLOT_RELEASED,
    "expire": events.SLOT_RELEASED,
}
HOLD_EXPIRED = "hold expired"


@dataclass(frozen=True)
class Transitioned:
    before: str  # the status the action changed, read under the row lock
    row: asyncpg.Record  # the appointment after the action


async def apply_transition(
    con: asyncpg.Connection,
    appointment_id: uuid.UUID,
    doctor_id: uuid.UUID,
    action: Action,
    *,
    actor: str | None,
    party: Party | None,
    reason: str | None = None,
    cutoff: timedelta = timedelta(0),
) -> Transitioned | None:
    """Apply `action` inside the caller's transaction; None when the appointment is gone."""
    slot_event = SLOT_EVENT.get(action)
    version = await bump_version(con, doctor_id) if slot_event else None
    status = await store.lock_appointment(con, appointment_id)
    row = await store.fetch_appointment(con, appointment_id)
    if status is None or row is None:
        return None
    now = clock.now()
    target = check_transition(action, party, status, row["start_at"], now, cutoff)
    cancelled_by = ("system" if action == "expire" else party) if target == "cancelled" else None
    await store.set_status(
        con,
        appointment_id,
        target,
        cancelled_by,
        HOLD_EXPIRED if action == "expire" else reason,
        at=now,
    )
    row = await store.fetch_appointment(con, appointment_id)
    assert row is not None
    if version is None:
        version = await current_version(con, doctor_id)
    else:
        assert slot_event is not None
        if slot_event == events.SLOT_RELEASED:
            await release_slot(con, slot_payload(row, version), actor)
        else:
            await emit_slot(con, slot_event, slot_payload(row, version), actor)
    payload = appointment_payload(
        row, version, reason=HOLD_EXPIRED if action == "expire" else reason
    )
    await emit_appointment(con, APPOINTMENT_EVENT[action], payload, actor)
    return Transitioned(status, row)


async def transition(
    engines: Engines,
    principal: Principal,
    appointment_id: uuid.UUID,
    action: Action,
    reason: str | None = None,
) -> AppointmentOut:
    """An API caller's transition: 404 for strangers, 403 for the wrong party, 409 if refused."""
    async with engines.pool.acquire() as con:
        caller = await resolve_caller(con, principal)
        current = await store.fetch_appointment(con, appointment_id)
        party = require_party(caller, current)
        assert current is not None
        if action == "cancel" and party == "patient":
            await require_cancel_reason(con, appointment_id, current["status"], reason)
        async with con.transaction():
            applied = await apply_transition(
                con,
                appointment_id,
                current["doctor_id"],
                action,
                actor=caller.actor,
                party=party,
                reason=reason,
                cutoff=timedelta(hours=engines.settings.patient_cancel_cutoff_h),
            )
            if applied is not None:
                if acts_as_proxy(caller, current):
                    await record_proxy_action(
                        con, principal, action, current["patient_id"], appointment_id
                    )
                await record_change(con)
    if applied is None:
        raise NotFound(NO_SUCH_APPOINTMENT)
    return render_appointment(applied.row, FieldCipher(engines.settings), engines.settings, party)


async def mark_hold_paid(
    pool: asyncpg.Pool, appointment_id: uuid.UUID, actor: str | None = None
) -> bool:
    """For the payments domain: the held slot is paid, the appointment becomes confirmed.

    Returns False for an unknown appointment; raises TransitionRefused when it is no longer held
    (e.g. the hold expired first: the payment must then be refunded).
    """
    async with pool.acquire() as con:
        doctor_id = await store.appointment_doctor(con, appointment_id)
        if doctor_id is None:
            return False
        async with con.transaction():
            applied = await apply_transition(
                con, appointment_id, doctor_id, "pay", actor=actor, party=None
            )
    return applied is not None


async def retake_expired_hold(
    pool: asyncpg.Pool, appointment_id: uuid.UUID, actor: str | None = None
) -> None:
    """For the payments domain: a payment succeeded after the hold expired; take the slot
    again, confirmed. Raises SlotTaken when another appointment holds the time now, and
    TransitionRefused when the appointment is not an expired hold, has already started, or
    nobody acts for its patient any more (`nobody-acts`: a relative removed by their last
    proxy, or an erased patient)."""
    async with pool.acquire() as con:
        row = await store.fetch_appointment(con, appointment_id)
        expired = (
            row is not None
            and row["status"] == "cancelled"
            and row["cancelled_by"] == "system"
            and row["cancellation_reason"] == HOLD_EXPIRED
        )
        if row is None or not expired or row["start_at"] <= clock.now():
            status = row["status"] if row is not None else "unknown"
            raise TransitionRefused(NOT_AN_EXPIRED_HOLD, status, [])
        try:
            async with con.transaction():
                # Before the doctor's version: a relative removed (erased) by their last proxy
                # meanwhile gets no visit back that nobody would hear of (the payment is
                # refunded); a removal coming after waits, then sees the visit (409).
                if not await share_acted_for(con, row["patient_id"]):
                    raise TransitionRefused(NOBODY_ACTS, row["status"], [])
                await apply_transition(
                    con, appointment_id, row["doctor_id"], "retake", actor=actor, party=None
                )
        except ConstraintViolation as exc:
            raise SlotTaken("The slot was taken by someone else meanwhile.") from exc
