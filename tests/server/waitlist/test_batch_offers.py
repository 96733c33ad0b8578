"""The waitlist consumer hands a fetched batch of slot.released events over one event per
transaction (bus.consumer.one_by_one): in one transaction, an offer held the doctor's version row
until the batch committed, so two batches (two nodes sharing the durable consumer) that offered
slots of two doctors in opposite orders deadlocked, PostgreSQL's refusal of one offer passed for
"the slot is taken", and the batch committed its event as handled: the waiting patient was never
offered the slot (the event is not delivered again)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import asyncpg
import httpx
import pytest

from bus import events
from bus.events import Envelope
from server import clock
from server.scheduling.events import SlotChanged
from server.settings import Settings
from server.waitlist import consumer
from server.waitlist.events import WaitlistOffered
from tests.factories import Doctor, make_patient
from tests.server.scheduling.helpers import booked, doctor_with_availability, local
from tests.server.waitlist.helpers import entries, join, offer_for, settle

Offer = Callable[[asyncpg.Connection, SlotChanged], Awaitable[WaitlistOffered | None]]


async def _freed(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, doctor: Doctor, at: str
) -> SlotChanged:
    """A slot of the doctor, booked then cancelled, in two days at `at` (the doctor's time)."""
    patient = await make_patient(db, settings)
    start = local(doctor, 2, at)
    taken = await booked(client, patient, doctor, start)
    cancelled = await client.post(
        f"/api/v1/appointments/{taken['id']}/cancel", headers=patient.user.headers
    )
    assert cancelled.status_code == 200, cancelled.text
    return SlotChanged(
        doctor_id=doctor.id,
        appointment_id=uuid.UUID(taken["id"]),
        start=start,
        end=start + timedelta(minutes=30),
        visit_type="in-person",
        availability_version=0,
    )


def _released(slot: SlotChanged) -> Envelope:
    return Envelope(
        type=events.SLOT_RELEASED,
        subject=f"doctor:{slot.doctor_id}",
        data=slot.model_dump(mode="json"),
        occurred_at=clock.now(),
    )


async def test_two_slots_freed_in_one_batch_are_not_both_offered_to_one_patient(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, pool: asyncpg.Pool
) -> None:
    """The second offer of the batch sees the first: the patient it went to no longer waits, so
    the second slot goes to the next patient."""
    doctor = await doctor_with_availability(client, db, settings)
    slots = [await _freed(client, db, settings, doctor, at) for at in ("10:00", "11:00")]
    await settle(client, db)
    first, second = [await make_patient(db, settings) for _ in range(2)]
    await join(client, first, doctor)
    await join(client, second, doctor)

    await consumer.handler_for(pool)([_released(slot) for slot in slots])

    offers = [await offer_for(client, patient) for patient in (first, second)]
    assert [datetime.fromisoformat(o["start"]) for o in offers] == [s.start for s in slots]


async def test_two_batches_offering_two_doctors_in_opposite_orders_lose_no_offer(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    settings: Settings,
    pool: asyncpg.Pool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    doctors = [await doctor_with_availability(client, db, settings) for _ in range(2)]
    freed = {
        (d, at): await _freed(client, db, settings, doctor, at)
        for d, doctor in enumerate(doctors)
        for at in ("10:00", "11:00")
    }
    await settle(client, db)  # nobody waited: the app's consumer released them for good
    waiters = [await make_patient(db, settings) for _ in range(4)]
    for w, waiter in enumerate(waiters):
        await join(client, waiter, doctors[w // 2])

    # Batch A frees doctor 0's 10:00 then doctor 1's 11:00, batch B doctor 1's 10:00 then
    # doctor 0's 11:00; each makes its first offer before either goes on to its second.
    batches = [[freed[0, "10:00"], freed[1, "11:00"]], [freed[1, "10:00"], freed[0, "11:00"]]]
    firsts = {batch[0].appointment_id for batch in batches}
    both_offered_once = asyncio.Barrier(2)
    real_offer: Offer = consumer.offer_freed_slot

    async def offer_then_wait(con: asyncpg.Connection, slot: SlotChanged) -> WaitlistOffered | None:
        made = await real_offer(con, slot)
        if slot.appointment_id in firsts:
            await both_offered_once.wait()
        return made

    monkeypatch.setattr(consumer, "offer_freed_slot", offer_then_wait)
    handler = consumer.handler_for(pool)
    envelopes = [[_released(slot) for slot in batch] for batch in batches]
    async with asyncio.timeout(30):
        await asyncio.gather(*(handler(b) for b in envelopes), return_exceptions=True)

    # An event the consumer recorded as handled was either offered or had nobody to offer to;
    # every slot here suits a waiting patient, so each handled event's slot is held for one.
    handled = {
        r["event_id"]
        for r in await db.fetch(
            "SELECT event_id FROM bus.handled_events WHERE consumer = $1", consumer.CONSUMER
        )
    }
    offered = {
        (r["doctor_id"], r["start_at"])
        for r in await db.fetch("SELECT doctor_id, start_at FROM waitlist.offers")
    }
    lost = [
        (str(e.data["doctor_id"]), e.data["start"])
        for batch in envelopes
        for e in batch
        if e.id in handled
        and (uuid.UUID(str(e.data["doctor_id"])), SlotChanged.model_validate(e.data).start)
        not in offered
    ]
    assert lost == [], f"handled without an offer, while patients wait: {lost}"
    assert handled, "neither batch committed"
    for waiter in waiters:
        assert len(await entries(client, waiter)) == 1
