"""Offers: a freed slot goes to the first waiting patient it suits, held for them.

An offer is a hold (scheduling.appointments, status `held`, hold_expires_at = the offer's end)
made under the slot's lock (the one scheduling.book_slot_audited tries, so a rush booking
meanwhile is refused as taken), in the very transaction that frees the slot (a cancellation, a
reschedule, an expired hold, a declined or lapsed offer: `rehold`, registered with
server.scheduling.release): the public grid never shows the slot free while someone waits for
it, and the exclusion constraints forbid a second offer or booking of it. With nobody waiting
the slot is released (slot.released, live on the grid); the waitlist consumer tries released
slots once more (someone may have joined meanwhile, or a booking held the slot's lock and
failed).

Hours a doctor adds (new working hours, a removed exception: doctor.availability.updated) are
offered too, by the waitlist consumer: each free slot of the new grid inside a waiting entry's
window, in time order, through the same path.

Fair order: entries in the order they joined (created_at, then id), whether they wait for the
doctor or for any doctor of the specialty in the doctor's city or radius
(storage.waitlist.first_waiting); an entry is offered a given slot of a doctor once.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from bus import events
from bus.outbox import emit
from server import clock
from server.scheduling.events import (
    SlotChanged,
    appointment_event,
    appointment_payload,
    slot_event,
    slot_payload,
)
from server.scheduling.slots import free_slots, load_availability
from server.waitlist.events import WaitlistOffered
from storage import waitlist as store
from storage.errors import ConstraintViolation, StaleRead
from storage.scheduling.appointments import NewAppointment
from storage.scheduling.booking import book_slot
from storage.scheduling.parties import fetch_doctor

log = logging.getLogger(__name__)

ACTOR = "waitlist"
# Added hours: at most this many slots are tried per change (each may become an offer).
ADDED_SLOTS_TRIED = 200


@dataclass(frozen=True)
class OpenSlot:
    doctor_id: uuid.UUID
    start: datetime
    end: datetime
    visit_type: str
    location: str
    city: str | None  # the doctor's, as written: area entries wait for a city
    given_up_by: uuid.UUID | None = None  # the patient who just freed it: never offered it back


async def offer_freed_slot(con: asyncpg.Connection, freed: SlotChanged) -> WaitlistOffered | None:
    """Inside the caller's transaction: close the offer the freed hold carried (if any), then
    hold the slot for the first waiting patient it suits. Returns the new offer, or None when
    the slot is taken again, past, or suits nobody."""
    now = clock.now()
    await store.lapse_offer_of(con, freed.appointment_id, now)
    gone = await store.freed_appointment(con, freed.appointment_id)
    slot = OpenSlot(
        freed.doctor_id,
        freed.start,
        freed.end,
        freed.visit_type,
        gone["location"],
        gone["city"],
        gone["patient_id"],
    )
    return await offer_slot(con, slot, now)


async def offer_slot(
    con: asyncpg.Connection, freed: OpenSlot, now: datetime
) -> WaitlistOffered | None:
    """Hold a free slot for the first waiting entry it suits (a savepoint); None when the slot
    is being booked, busy, past, or suits nobody."""
    # Whom it suits first: with nobody waiting the slot's lock stays free, else a patient booking
    # the released slot right then would be refused as if it were taken.
    entry = await store.first_waiting(
        con,
        freed.doctor_id,
        freed.start,
        freed.end,
        freed.visit_type,
        now,
        freed.given_up_by,
        freed.city,
    )
    if entry is None:
        return None
    # Not waiting for the lock: whoever holds it is booking the slot (the scheduling side takes
    # the doctor's version lock first and this lock second; a booking the other way round).
    if not await store.try_lock_slot(con, freed.doctor_id, freed.start):
        return None
    if await store.slot_is_busy(con, freed.doctor_id, freed.start, freed.end):
        return None
    try:
        async with con.transaction():  # a savepoint: a refused hold undoes only itself
            return await _hold_for(con, entry, freed, now)
    except (ConstraintViolation, StaleRead):
        # The patient took another time meanwhile, or the hours changed: the slot stays free.
        log.info("waitlist offer refused", extra={"entry_id": str(entry["id"])})
        return None


async def rehold(con: asyncpg.Connection, freed: SlotChanged) -> bool:
    """scheduling's re-holder (server.scheduling.release): offer the slot in the transaction
    that frees it, so it never shows as free while someone waits for it."""
    return await offer_freed_slot(con, freed) is not None


async def offer_added_hours(con: asyncpg.Connection, doctor_id: uuid.UUID) -> int:
    """The doctor's availability changed: offer the free slots waiting entries accept, earliest
    first, until nobody suited is left. Returns how many offers were made."""
    now = clock.now()
    city = await store.doctor_city(con, doctor_id)
    window = await store.waiting_window(con, doctor_id, city, now)
    doctor = await fetch_doctor(con, doctor_id)
    if window is None or doctor is None or doctor["verification_status"] != "verified":
        return 0
    availability = await load_availability(con, doctor)
    start, end = window
    end = min(end, now + availability.settings.horizon)
    if end <= start:
        return 0
    made = 0
    slots = sorted(await free_slots(con, availability, start, end, now), key=lambda s: s.start)
    for slot in slots[:ADDED_SLOTS_TRIED]:
        open_slot = OpenSlot(doctor_id, slot.start, slot.end, slot.visit_type, slot.location, city)
        if await offer_slot(con, open_slot, now) is not None:
            made += 1
        elif await store.waiting_window(con, doctor_id, city, now) is None:
            break
    return made


async def _hold_for(
    con: asyncpg.Connection, entry: asyncpg.Record, freed: OpenSlot, now: datetime
) -> WaitlistOffered:
    # An area entry names no reason (reasons are a doctor's own).
    reason_id = entry["reason_id"] if entry["doctor_id"] == freed.doctor_id else None
    context = await store.offer_context(con, freed.doctor_id, reason_id)
    expires_at = now + timedelta(minutes=context["offer_minutes"])
    new = NewAppointment(
        id=uuid.uuid4(),
        doctor_id=freed.doctor_id,
        patient_id=entry["patient_id"],
        start=freed.start,
        end=freed.end,
        visit_type=freed.visit_type,
        status="held",
        reason_id=reason_id,
        location=freed.location,
        notes=None,
        fee=context["fee"],
        currency=context["currency"],
        hold_expires_at=expires_at,
        # A relative's entry: the proxy who joined books it (booked_by, migration 0023).
        created_by=entry["proxy_user_id"],
        created_at=now,
    )
    planned = {
        "id": new.id,
        "doctor_id": new.doctor_id,
        "patient_id": new.patient_id,
        "start_at": new.start,
        "end_at": new.end,
        "visit_type": new.visit_type,
        "status": new.status,
        "cancelled_by": None,
    }
    outbox = [
        slot_event(events.SLOT_HELD, slot_payload(planned, 0), ACTOR),
        appointment_event(events.APPOINTMENT_CREATED, appointment_payload(planned, 0), ACTOR),
    ]
    await book_slot(
        con,
        new,
        context["rules_stamp"],
        timedelta(minutes=context["buffer_minutes"]),
        [e.model_dump(mode="json") for e in outbox],
    )
    offer = WaitlistOffered(
        offer_id=uuid.uuid4(),
        entry_id=entry["id"],
        appointment_id=new.id,
        doctor_id=new.doctor_id,
        patient_id=new.patient_id,
        patient_user_id=entry["patient_user_id"],
        start=new.start,
        end=new.end,
        visit_type=new.visit_type,
        expires_at=expires_at,
    )
    await store.insert_offer(
        con,
        offer.offer_id,
        offer.entry_id,
        offer.appointment_id,
        offer.doctor_id,
        offer.start,
        offer.end,
        offer.visit_type,
        expires_at,
        now,
    )
    await emit(
        con,
        events.WAITLIST_OFFERED,
        f"patient:{offer.patient_id}",
        offer,
        actor=ACTOR,
        at=now,
    )
    return offer
