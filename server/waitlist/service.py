"""The waitlist service: join, list, leave; accept or decline an offer; doctors' counts.

A patient account waits for itself or, as a proxy (patients.relatives, issue #24), for a
relative it manages: it sees, leaves and answers the offers of those entries too, and the
booking an offer makes is the relative's, booked by the proxy who accepts (as a proxy booking
is).

Accepting turns the offer's hold into the booking (`claim`, or a longer hold to pay at checkout
when the visit is paid first) and, for an entry that moves an appointment, cancels the old one
in the same transaction. Declining cancels the hold: its slot.released passes the slot on.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

import asyncpg

from server import clock
from server.audit.service import record_change
from server.auth.principal import Principal
from server.crypto import FieldCipher
from server.engines import Engines
from server.errors import NO_SUCH_DOCTOR, Forbidden, InvalidInput, NotFound
from server.patients.errors import NO_SUCH_RELATIVE, PatientNotFound
from server.scheduling.access import Caller, resolve_caller
from server.scheduling.appointments import render_appointment
from server.scheduling.errors import TYPE_NOT_OFFERED
from server.scheduling.proxy import record_proxy_action
from server.scheduling.schemas import AppointmentOut
from server.scheduling.transitions import apply_transition
from server.waitlist.errors import (
    ALREADY_WAITING,
    DAY_TIME_ORDER,
    DOCTOR_ONLY_FIELD,
    INVALID_ENTRY,
    NO_SUCH_ENTRY,
    NO_SUCH_OFFER,
    NOT_YOUR_APPOINTMENT,
    OFFER_CLOSED,
    UNKNOWN_SPECIALTY,
    WAITLIST_PATIENTS,
    WAITLIST_TARGET,
    WINDOW_ORDER,
    WINDOW_PASSED,
    AlreadyWaiting,
    OfferClosed,
)
from server.waitlist.schemas import (
    EntryList,
    EntryOut,
    JoinRequest,
    Near,
    OfferOut,
    WaitingCount,
)
from storage import waitlist as store
from storage.scheduling.appointments import fetch_appointment
from storage.scheduling.parties import fetch_doctor

MOVED = "moved to an earlier slot from the waitlist"
DECLINED = "waitlist offer declined"


async def _caller(engines: Engines, principal: Principal) -> Caller:
    """A patient account, with its own profile or relatives it manages; 403 for anyone else."""
    caller = await resolve_caller(engines.pool, principal)
    if caller.patient_id is None and not caller.relative_ids:
        raise Forbidden(WAITLIST_PATIENTS)
    return caller


def _managed(caller: Caller) -> list[uuid.UUID]:
    """The patients whose entries the caller sees and answers: its own and its relatives'."""
    own = [caller.patient_id] if caller.patient_id is not None else []
    return own + sorted(caller.relative_ids - set(own))


def _for_whom(caller: Caller, requested: uuid.UUID | None) -> uuid.UUID:
    """The patient an entry is for: the caller's own profile, or the relative `requested`
    names. 403 without a profile of one's own; 404 (`no-such-relative`, as /me/relatives says)
    for a patient that is unknown, someone else's relative or no longer linked."""
    if requested is None or requested == caller.patient_id:
        if caller.patient_id is None:
            raise Forbidden(WAITLIST_PATIENTS)
        return caller.patient_id
    if requested not in caller.relative_ids:
        raise PatientNotFound(NO_SUCH_RELATIVE)
    return requested


def _check_window(body: JoinRequest) -> None:
    errors = []
    if body.latest <= body.earliest:
        errors.append(WINDOW_ORDER.at("latest"))
    elif body.latest <= clock.now():
        errors.append(WINDOW_PASSED.at("latest"))
    if body.day_from and body.day_until and body.day_until <= body.day_from:
        errors.append(DAY_TIME_ORDER.at("day_until"))
    area = body.specialty is not None
    if area == (body.doctor_id is not None) or (area and not (body.city or body.near)):
        errors.append(WAITLIST_TARGET.at("doctor_id" if not area else "city"))
    elif not area and (body.city is not None or body.near is not None):
        # A doctor entry with a place: the place was stored and shown, yet never used.
        errors.append(WAITLIST_TARGET.at("city" if body.city is not None else "near"))
    elif area:
        if body.reason_id is not None:
            errors.append(DOCTOR_ONLY_FIELD.at("reason_id"))
        if body.replaces_appointment_id is not None:
            errors.append(DOCTOR_ONLY_FIELD.at("replaces_appointment_id"))
    if errors:
        raise InvalidInput(INVALID_ENTRY, errors)


async def join(engines: Engines, principal: Principal, body: JoinRequest) -> EntryOut:
    """201 with the entry; 403 not a patient, 404 no such doctor or relative, 409 already
    waiting, 422."""
    caller = await _caller(engines, principal)
    patient_id = _for_whom(caller, body.patient_id)
    proxy = principal.user_id if patient_id != caller.patient_id else None
    _check_window(body)
    now = clock.now()
    async with engines.pool.acquire() as con:
        if body.doctor_id is None:
            assert body.specialty is not None
            if not await store.specialty_exists(con, body.specialty):
                raise InvalidInput(INVALID_ENTRY, [UNKNOWN_SPECIALTY.at("specialty")])
        else:
            doctor = await fetch_doctor(con, body.doctor_id)
            if doctor is None or doctor["verification_status"] != "verified":
                raise NotFound(NO_SUCH_DOCTOR)
        if (
            body.doctor_id is not None
            and body.reason_id is not None
            and not await store.reason_offered(con, body.doctor_id, body.reason_id, body.visit_type)
        ):
            raise InvalidInput(INVALID_ENTRY, [TYPE_NOT_OFFERED.at("reason_id")])
        if body.replaces_appointment_id is not None:
            replaced = await store.upcoming_appointment_of(
                con, body.replaces_appointment_id, patient_id, now
            )
            if replaced is None or replaced["doctor_id"] != body.doctor_id:
                raise NotFound(NOT_YOUR_APPOINTMENT)
        new = store.NewEntry(
            id=uuid.uuid4(),
            patient_id=patient_id,
            doctor_id=body.doctor_id,
            visit_type=body.visit_type,
            reason_id=body.reason_id,
            earliest=body.earliest,
            latest=body.latest,
            weekdays=sorted(set(body.weekdays)),
            day_from=body.day_from,
            day_until=body.day_until,
            replaces_appointment_id=body.replaces_appointment_id,
            specialty=body.specialty,
            city=body.city.strip() if body.city else None,
            latitude=body.near.latitude if body.near else None,
            longitude=body.near.longitude if body.near else None,
            radius_km=body.near.radius_km if body.near else None,
            proxy_user_id=proxy,
        )
        async with con.transaction():
            if not await store.insert_entry(con, new, now):
                raise AlreadyWaiting(ALREADY_WAITING)
            await record_change(con, resource_id=new.id)
        entries = await store.patient_entries(con, [patient_id])
    return next(_entry(row) for row in entries if row["id"] == new.id)


def _entry(row: asyncpg.Record) -> EntryOut:
    """`row`: one of store.patient_entries."""
    offer = None
    if row["offer_id"] is not None:
        offer = OfferOut(
            id=row["offer_id"],
            doctor_id=row["offer_doctor_id"],
            appointment_id=row["appointment_id"],
            start=row["start_at"],
            end=row["end_at"],
            expires_at=row["expires_at"],
        )
    fields = {k: row[k] for k in EntryOut.model_fields if k not in ("offer", "near")}
    fields["weekdays"] = list(fields["weekdays"])
    near = None
    if row["radius_km"] is not None:
        near = Near(
            latitude=row["latitude"], longitude=row["longitude"], radius_km=row["radius_km"]
        )
    return EntryOut(**fields, near=near, offer=offer)


async def my_entries(engines: Engines, principal: Principal) -> EntryList:
    """The caller's entries and those of the relatives it manages."""
    caller = await _caller(engines, principal)
    async with engines.pool.acquire() as con:
        rows = await store.patient_entries(con, _managed(caller))
    return EntryList(items=[_entry(row) for row in rows])


async def leave(engines: Engines, principal: Principal, entry_id: uuid.UUID) -> None:
    """Leave the waitlist; an open offer of the entry is declined with it. 404 when not the
    caller's nor a managed relative's."""
    caller = await _caller(engines, principal)
    async with engines.pool.acquire() as con, con.transaction():
        if not await _leave(con, caller, entry_id):
            raise NotFound(NO_SUCH_ENTRY)
        await record_change(con)


async def _leave(con: asyncpg.Connection, caller: Caller, entry_id: uuid.UUID) -> bool:
    """The entry leaves, its open offer declined first (the hold cancelled, the slot passed
    on), in the caller's transaction. False when it is none of the caller's live entries.

    Locked in storage.waitlist's lock order: the open offer read beforehand (its locks come
    first), then the entry. An offer made to the entry meanwhile (its maker held the entry)
    shows once the entry is locked: the locks go (a savepoint) and are taken again for it, so
    the leave comes after the offer and declines it."""
    patients = _managed(caller)
    while True:
        attempt = con.transaction()
        await attempt.start()
        seen = await store.open_offer_id(con, entry_id)
        offer = await store.lock_offer(con, seen, patients) if seen is not None else None
        if not await store.lock_entry(con, entry_id, patients):
            await attempt.rollback()
            return False
        if await store.open_offer_id(con, entry_id) == seen:
            break
        await attempt.rollback()
    await attempt.commit()  # the savepoint's locks stay the transaction's
    if offer is not None:
        await _decline_locked(con, offer, caller)
    return await store.leave_entry(con, entry_id, patients, clock.now())


async def withdraw_proxy(
    con: asyncpg.Connection,
    principal: Principal,
    proxy_user_id: uuid.UUID,
    relative_ids: Sequence[uuid.UUID],
) -> int:
    """A proxy no longer acts for these relatives (its link revoked, its account or the
    relative erased): the entries it made for them leave as a leave does, open offers declined
    by `principal` (who revoked or erased), in the caller's transaction. Call it once the link
    is revoked, so the freed slot is not offered to another of these entries. Returns how
    many left."""
    caller = Caller(principal, None, None, frozenset(relative_ids))
    entry_ids = await store.proxy_entry_ids(con, proxy_user_id, list(relative_ids))
    for entry_id in entry_ids:
        await _leave(con, caller, entry_id)
    return len(entry_ids)


async def _decline(con: asyncpg.Connection, offer_id: uuid.UUID, caller: Caller) -> None:
    offer = await store.lock_offer(con, offer_id, _managed(caller))
    if offer is None:
        raise NotFound(NO_SUCH_OFFER)
    if offer["status"] != "open":
        raise OfferClosed(OFFER_CLOSED)
    await _decline_locked(con, offer, caller)


async def _decline_locked(con: asyncpg.Connection, offer: asyncpg.Record, caller: Caller) -> None:
    """`offer`: an open one, as store.lock_offer read it under its locks."""
    offer_id = offer["id"]
    await store.close_offer(con, offer_id, "declined", "waiting", clock.now())
    await apply_transition(
        con,
        offer["appointment_id"],
        offer["doctor_id"],
        "cancel",
        actor=caller.actor,
        party="patient",
        reason=DECLINED,
    )
    if offer["patient_id"] != caller.patient_id:
        await record_proxy_action(
            con, caller.principal, "cancel", offer["patient_id"], offer["appointment_id"]
        )


async def decline(engines: Engines, principal: Principal, offer_id: uuid.UUID) -> None:
    """Decline: the hold is cancelled and the slot passes on. 404 not yours, 409 closed."""
    caller = await _caller(engines, principal)
    async with engines.pool.acquire() as con, con.transaction():
        await _decline(con, offer_id, caller)
        await record_change(con)


async def accept(engines: Engines, principal: Principal, offer_id: uuid.UUID) -> AppointmentOut:
    """Book the offered slot (moving the entry's appointment, if it names one) atomically.

    A visit to pay first stays held, now for the checkout's time (settings.hold_ttl_s).
    404 not yours (nor a managed relative's); 409 (offer-closed) once it was declined, accepted
    or lapsed.
    """
    caller = await _caller(engines, principal)
    settings = engines.settings
    actor = str(principal.user_id)
    now = clock.now()
    async with engines.pool.acquire() as con:
        async with con.transaction():
            offer = await store.lock_offer(con, offer_id, await _answerable(con, caller, offer_id))
            if offer is None:
                raise NotFound(NO_SUCH_OFFER)
            held = await fetch_appointment(con, offer["appointment_id"])
            if (
                offer["status"] != "open"
                or offer["expires_at"] <= now
                or held is None
                or held["status"] != "held"
            ):
                raise OfferClosed(OFFER_CLOSED)
            # The hold names the proxy who joined; another proxy of the patient, or the patient
            # in person, may be the one accepting.
            booker = principal.user_id if offer["patient_id"] != caller.patient_id else None
            if held["booked_by_user_id"] != booker:
                await store.set_booked_by(con, held["id"], booker)
            if settings.payments_required and held["fee"] > 0 and await _pays_first(con, held):
                expires = now + timedelta(seconds=settings.hold_ttl_s)
                await store.extend_hold(con, held["id"], expires, now)
            else:
                await apply_transition(
                    con, held["id"], offer["doctor_id"], "claim", actor=actor, party=None
                )
            await store.close_offer(con, offer_id, "accepted", "booked", now)
            replaced = offer["replaces_appointment_id"]
            if replaced is not None:
                await apply_transition(
                    con,
                    replaced,
                    offer["doctor_id"],
                    "cancel",
                    actor=actor,
                    party="patient",
                    reason=MOVED,
                )
            if offer["patient_id"] != caller.patient_id:
                await record_proxy_action(con, principal, "book", offer["patient_id"], held["id"])
            await record_change(con, resource_id=held["id"])
        row = await fetch_appointment(con, offer["appointment_id"])
    assert row is not None
    return render_appointment(row, FieldCipher(settings), settings, "patient")


async def _answerable(
    con: asyncpg.Connection, caller: Caller, offer_id: uuid.UUID
) -> list[uuid.UUID]:
    """The patients whose offer the caller may accept, in the caller's transaction: its own
    and, for an offer to a relative, that relative while the caller's link is live, the link
    locked FOR SHARE before anything else (as a booking for them does): a removal either waits
    and sees the booking, or came first and the offer is not the caller's (404)."""
    if not caller.relative_ids:
        return _managed(caller)
    relative_id = await store.share_proxy_link(con, offer_id, caller.principal.user_id)
    return [p for p in (caller.patient_id, relative_id) if p is not None]


async def _pays_first(con: asyncpg.Connection, held: asyncpg.Record) -> bool:
    """Paid online now, unless the reason is paid at the visit and the patient is below the
    practice's no-show threshold."""
    if not await store.reason_pays_at_visit(con, held["reason_id"]):
        return True
    return await store.prepay_required(con, held["doctor_id"], held["patient_id"])


async def waiting_for_doctor(
    engines: Engines, principal: Principal, doctor_id: uuid.UUID
) -> WaitingCount:
    """How many wait for the doctor: the doctor themself or an admin; 404 for anyone else."""
    caller = await resolve_caller(engines.pool, principal)
    if not principal.is_admin and caller.doctor_id != doctor_id:
        raise NotFound(NO_SUCH_DOCTOR)
    async with engines.pool.acquire() as con:
        count = await store.waiting_count(con, doctor_id, clock.now())
    return WaitingCount(doctor_id=doctor_id, waiting=count)
