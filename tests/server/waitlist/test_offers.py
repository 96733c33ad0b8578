"""The waitlist end to end over the running app (relay, NATS, the waitlist consumer, the hold
sweeper's release): a cancelled slot is offered in fair order, held (never on the public grid),
accepted atomically, declined or lapsed on to the next patient, and freed when nobody is left."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import asyncpg
import httpx

from server import clock
from server.scheduling.events import SlotChanged
from server.scheduling.service import release_expired_holds
from server.settings import Settings
from server.waitlist.offers import offer_freed_slot
from storage.waitlist import try_lock_slot
from tests.factories import Doctor, make_patient
from tests.server.scheduling.helpers import (
    booked,
    doctor_with_availability,
    events_of,
    local,
    slot_starts,
)
from tests.server.waitlist.helpers import WAITLIST, entries, join, offer_for, settle


async def _grid_has(client: httpx.AsyncClient, doctor: Doctor, start: datetime) -> bool:
    return start in await slot_starts(client, doctor, start, start + timedelta(hours=1))


async def test_cancelled_slot_goes_to_the_first_waiting_and_accepting_books_it(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    first, second, canceller = [await make_patient(db, settings) for _ in range(3)]
    start = local(doctor, 2, "10:00")
    taken = await booked(client, canceller, doctor, start)
    await join(client, first, doctor)
    await join(client, second, doctor)

    cancelled = await client.post(
        f"/api/v1/appointments/{taken['id']}/cancel", headers=canceller.user.headers
    )
    assert cancelled.status_code == 200, cancelled.text
    offer = await offer_for(client, first)

    assert datetime.fromisoformat(offer["start"]) == start
    assert [e["offer"] for e in await entries(client, second)] == [None]
    assert not await _grid_has(client, doctor, start)  # held for `first`, not public
    # Offered in the cancelling transaction: the slot was never announced as free.
    assert await events_of(db, "slot.released") == []
    accepted = await client.post(
        f"{WAITLIST}/offers/{offer['id']}/accept", headers=first.user.headers
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "scheduled"
    assert accepted.json()["id"] == offer["appointment_id"]
    assert await entries(client, first) == []  # booked: no longer waiting
    again = await client.post(f"{WAITLIST}/offers/{offer['id']}/accept", headers=first.user.headers)
    assert again.status_code == 409 and again.json()["code"] == "offer-closed"


async def test_decline_and_lapse_pass_the_slot_on_then_it_returns_to_the_grid(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, pool: asyncpg.Pool
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    first, second, canceller = [await make_patient(db, settings) for _ in range(3)]
    start = local(doctor, 3, "11:00")
    taken = await booked(client, canceller, doctor, start)
    await join(client, first, doctor)
    await join(client, second, doctor)
    await client.delete(f"/api/v1/appointments/{taken['id']}", headers=canceller.user.headers)

    offered = await offer_for(client, first)
    stranger = await client.post(
        f"{WAITLIST}/offers/{offered['id']}/decline", headers=second.user.headers
    )
    assert stranger.status_code == 404
    declined = await client.post(
        f"{WAITLIST}/offers/{offered['id']}/decline", headers=first.user.headers
    )
    assert declined.status_code == 204, declined.text
    passed = await offer_for(client, second)
    assert passed["start"] == offered["start"]

    # `second` lets it lapse: the hold runs out and the sweeper releases it.
    await db.execute(
        "UPDATE scheduling.appointments SET hold_expires_at = $2 WHERE id = $1",
        passed["appointment_id"],
        clock.now(),
    )
    assert await release_expired_holds(pool) == 1
    await settle(client, db)
    # Nobody left who was not offered it: the slot is public again, and `first` still waits.
    assert await _grid_has(client, doctor, start)
    assert [e["offer"] for e in await entries(client, first)] == [None]
    assert [e["offer"] for e in await entries(client, second)] == [None]
    lapsed = await client.post(
        f"{WAITLIST}/offers/{passed['id']}/accept", headers=second.user.headers
    )
    assert lapsed.status_code == 409


async def test_accepting_moves_the_appointment_the_entry_names(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    mover, canceller = [await make_patient(db, settings) for _ in range(2)]
    later = await booked(client, mover, doctor, local(doctor, 6, "09:00"))
    earlier = await booked(client, canceller, doctor, local(doctor, 2, "15:00"))
    await join(client, mover, doctor, replaces_appointment_id=later["id"])
    await client.delete(f"/api/v1/appointments/{earlier['id']}", headers=canceller.user.headers)

    offer = await offer_for(client, mover)
    accepted = await client.post(
        f"{WAITLIST}/offers/{offer['id']}/accept", headers=mover.user.headers
    )
    assert accepted.status_code == 200, accepted.text
    old = await client.get(f"/api/v1/appointments/{later['id']}", headers=mover.user.headers)
    assert old.json()["status"] == "cancelled"
    assert old.json()["cancellation_reason"] == "moved to an earlier slot from the waitlist"


async def test_window_and_preferences_decide_who_is_offered(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    afternoons, anytime, canceller = [await make_patient(db, settings) for _ in range(3)]
    start = local(doctor, 2, "09:30")
    taken = await booked(client, canceller, doctor, start)
    await join(client, afternoons, doctor, day_from="13:00")  # joined first, but mornings no
    await join(client, anytime, doctor)
    await client.delete(f"/api/v1/appointments/{taken['id']}", headers=canceller.user.headers)

    assert (await offer_for(client, anytime))["appointment_id"]
    assert [e["offer"] for e in await entries(client, afternoons)] == [None]


async def test_the_offer_reaches_the_bell_and_the_inbox(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    waiter, canceller = [await make_patient(db, settings) for _ in range(2)]
    taken = await booked(client, canceller, doctor, local(doctor, 4, "14:00"))
    await join(client, waiter, doctor)
    await client.delete(f"/api/v1/appointments/{taken['id']}", headers=canceller.user.headers)
    offer = await offer_for(client, waiter)

    for _ in range(400):  # the notifications consumer runs after the relay
        bell = await db.fetchrow(
            "SELECT title, data FROM notify.in_app WHERE user_id = $1 AND kind = $2",
            waiter.user.id,
            "waitlist.offered",
        )
        email = await db.fetchval(
            "SELECT subject FROM notify.messages WHERE user_id = $1 AND kind = $2",
            waiter.user.id,
            "waitlist.offered",
        )
        if bell is not None and email is not None:
            break
        await asyncio.sleep(0.05)
    assert bell is not None and bell["title"] == "An earlier slot is held for you"
    assert bell["data"]["offer_id"] == offer["id"]
    assert email is not None and email.startswith("A slot with Dr ")


async def test_a_freed_slot_nobody_waits_for_leaves_its_lock_to_bookings(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """The waitlist looks at every released slot (in the freeing transaction, then again from
    its consumer); with nobody waiting it must not take the slot's lock, or a patient booking
    the slot just then is refused as if it were taken (seen as a 409 on a free slot)."""
    doctor = await doctor_with_availability(client, db, settings)
    patient = await make_patient(db, settings)
    start = local(doctor, 2, "10:00")
    slot = await booked(client, patient, doctor, start)
    freed = SlotChanged(
        doctor_id=doctor.id,
        appointment_id=slot["id"],
        start=start,
        end=start + timedelta(minutes=30),
        visit_type="in-person",
        availability_version=0,
    )
    con = await asyncpg.connect(settings.database_url)
    try:
        async with con.transaction():
            assert await offer_freed_slot(con, freed) is None
            assert await try_lock_slot(db, doctor.id, start)  # nobody holds it
    finally:
        await con.close()


async def test_a_patient_who_cancels_is_not_offered_their_own_slot_back(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """Waiting for an earlier time with the doctor and cancelling one's own appointment: the
    slot given up goes to the next waiting patient, never back to who gave it up."""
    doctor = await doctor_with_availability(client, db, settings)
    canceller, other = [await make_patient(db, settings) for _ in range(2)]
    start = local(doctor, 2, "10:00")
    taken = await booked(client, canceller, doctor, start)
    await join(client, canceller, doctor)
    await join(client, other, doctor)

    cancelled = await client.post(
        f"/api/v1/appointments/{taken['id']}/cancel", headers=canceller.user.headers
    )
    assert cancelled.status_code == 200, cancelled.text
    offer = await offer_for(client, other)
    assert datetime.fromisoformat(offer["start"]) == start
    await settle(client, db)
    assert [e["offer"] for e in await entries(client, canceller)] == [None]
