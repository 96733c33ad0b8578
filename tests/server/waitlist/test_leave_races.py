"""Leaving the waitlist while something else touches the entry or its offer: an offer being
made, an accept, the hold sweeper. Each takes the locks in storage.waitlist's one order, so
one goes first and the other sees what it did: never an open offer (nor its hold) left behind
on an entry that left, never a deadlock."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from server import clock
from server.scheduling.holds import release_expired_holds
from server.settings import Settings
from server.waitlist.offers import OpenSlot, offer_slot
from tests.factories import Doctor, Patient, make_patient
from tests.server.patients.test_relatives import add
from tests.server.scheduling.helpers import booked, doctor_with_availability, local
from tests.server.waitlist.helpers import WAITLIST, join, offer_for
from tests.server.waitlist.test_proxy_attacks import _waiting_on_a_lock

# Locking, authorization, audit and wording: no answer here depends on the hour (left out of
# the awkward-instant reruns, tools/dev.py).
pytestmark = pytest.mark.any_hour


async def _state(db: asyncpg.Connection, entry_id: str) -> dict[str, Any]:
    """The entry's status, its offers' and their holds' (status lists, oldest offer first)."""
    row = await db.fetchrow(
        """SELECT e.status AS entry,
                  coalesce(array_agg(o.status ORDER BY o.created_at)
                           FILTER (WHERE o.id IS NOT NULL), '{}') AS offers,
                  coalesce(array_agg(a.status ORDER BY o.created_at)
                           FILTER (WHERE a.id IS NOT NULL), '{}') AS holds
           FROM waitlist.entries e
           LEFT JOIN waitlist.offers o ON o.entry_id = e.id
           LEFT JOIN scheduling.appointments a ON a.id = o.appointment_id
           WHERE e.id = $1::uuid
           GROUP BY e.status""",
        entry_id,
    )
    return {"entry": row["entry"], "offers": list(row["offers"]), "holds": list(row["holds"])}


async def _offered(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, at: str
) -> tuple[Doctor, Patient, dict[str, Any], dict[str, Any]]:
    """A parent waits for Léa and gets the slot a canceller frees at `at`, two days on:
    (doctor, parent, entry, offer)."""
    doctor = await doctor_with_availability(client, db, settings)
    parent, canceller = [await make_patient(db, settings) for _ in range(2)]
    lea = await add(client, parent)
    taken = await booked(client, canceller, doctor, local(doctor, 2, at))
    entry = await join(client, parent, doctor, patient_id=lea["id"])
    await client.delete(f"/api/v1/appointments/{taken['id']}", headers=canceller.user.headers)
    return doctor, parent, entry, await offer_for(client, parent)


async def test_an_offer_tried_while_the_entry_is_leaving_passes_it_over(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """The other order than test_proxy_attacks' leave during an offer: the leave holds the
    entry (its audit row waits) when a freed slot is tried for it; the slot is not offered to
    it, and once the leave commits the entry has left with no offer."""
    doctor = await doctor_with_availability(client, db, settings)
    parent = await make_patient(db, settings)
    lea = await add(client, parent)
    entry = await join(client, parent, doctor, patient_id=lea["id"])
    start = local(doctor, 2, "09:00")
    tx = db.transaction()
    await tx.start()
    await db.execute("LOCK TABLE audit.logs IN EXCLUSIVE MODE")  # the leave's last write waits
    leaving = asyncio.create_task(
        client.delete(f"{WAITLIST}/{entry['id']}", headers=parent.user.headers)
    )
    await _waiting_on_a_lock(db, 1)
    slot = OpenSlot(doctor.id, start, start + timedelta(minutes=30), "in-person", "", None)
    made = await offer_slot(db, slot, clock.now())
    await tx.commit()
    left = await leaving

    assert made is None
    assert left.status_code == 204, left.text
    assert await _state(db, entry["id"]) == {"entry": "left", "offers": [], "holds": []}


async def test_leaving_racing_an_accept_one_wins_and_nothing_stays_held(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """The parent leaves Léa's entry and accepts its offer at once: either the leave wins (the
    offer declined, its hold cancelled, the accept 409 offer-closed) or the accept does (the
    visit booked, the entry gone from the list: 404)."""
    doctor, parent, entry, offer = await _offered(client, db, settings, "10:00")

    left, accepted = await asyncio.gather(
        client.delete(f"{WAITLIST}/{entry['id']}", headers=parent.user.headers),
        client.post(f"{WAITLIST}/offers/{offer['id']}/accept", headers=parent.user.headers),
    )
    state = await _state(db, entry["id"])
    outcome = (left.status_code, accepted.status_code, state)
    if left.status_code == 204:
        assert accepted.status_code == 409, outcome
        assert accepted.json()["code"] == "offer-closed"
        assert state == {"entry": "left", "offers": ["declined"], "holds": ["cancelled"]}, outcome
    else:
        assert (left.status_code, accepted.status_code) == (404, 200), outcome
        assert left.json()["code"] == "no-such-waitlist-entry"
        assert state == {"entry": "booked", "offers": ["accepted"], "holds": ["scheduled"]}
    held = await db.fetchval(
        "SELECT count(*) FROM scheduling.appointments WHERE doctor_id = $1 AND status = 'held'",
        doctor.id,
    )
    assert held == 0, outcome


async def test_declining_as_the_hold_sweeper_lapses_the_offer_takes_turns(
    client: httpx.AsyncClient, db: asyncpg.Connection, pool: asyncpg.Pool, settings: Settings
) -> None:
    """The offer's hold runs out as the parent declines it: the sweeper (the doctor's version
    row, the hold, then the offer) goes first and the decline, queued behind it in the same
    order, finds the offer lapsed (409). Before, the decline held the offer and waited for the
    version row the sweeper held while it waited for the offer: PostgreSQL killed one."""
    doctor, parent, entry, offer = await _offered(client, db, settings, "11:00")
    # The test holds the doctor's version row so both line up behind it, the sweeper first
    # (the app's own sweeper, should it run now, queues there too).
    tx = db.transaction()
    await tx.start()
    await db.execute(
        "SELECT 1 FROM scheduling.availability_versions WHERE doctor_id = $1 FOR UPDATE",
        doctor.id,
    )
    await pool.execute(
        "UPDATE scheduling.appointments SET hold_expires_at = $2 WHERE id = $1::uuid",
        offer["appointment_id"],
        clock.now(),
    )
    sweeping = asyncio.create_task(release_expired_holds(pool))
    await _waiting_on_a_lock(db, 1)
    declining = asyncio.create_task(
        client.post(f"{WAITLIST}/offers/{offer['id']}/decline", headers=parent.user.headers)
    )
    await _waiting_on_a_lock(db, 2)
    await tx.rollback()
    await sweeping  # 1, or 0 when the app's own sweeper got there first
    declined = await declining

    assert declined.status_code == 409, declined.text
    assert declined.json()["code"] == "offer-closed"
    assert await _state(db, entry["id"]) == {
        "entry": "waiting",
        "offers": ["lapsed"],
        "holds": ["cancelled"],
    }
