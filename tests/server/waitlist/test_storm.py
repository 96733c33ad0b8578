"""A storm of cancellations, bookings, accepts and declines on a few slots at once, with patients
waiting for the doctor, for the specialty in the city and within a radius alike: never two
open offers of one slot, never an offer of a slot someone booked, every offer's hold belongs to
its patient, and every closed offer's hold ended the way the offer did."""

from __future__ import annotations

import asyncio
import random

import asyncpg
import httpx

from server.settings import Settings
from tests.factories import Patient, make_patient
from tests.server.scheduling.helpers import book, booked, doctor_with_availability, local
from tests.server.waitlist.helpers import WAITLIST, entries, join, settle

SLOTS = 4
WAITERS = 6
GRABBERS = 3


async def _answer_offers(client: httpx.AsyncClient, patient: Patient, seed: int) -> None:
    """Accept or decline whatever the patient is offered for a while."""
    choose = random.Random(seed)
    for _ in range(40):
        for entry in await entries(client, patient):
            offer = entry["offer"]
            if offer is not None:
                action = choose.choice(["accept", "decline"])
                answer = await client.post(
                    f"{WAITLIST}/offers/{offer['id']}/{action}", headers=patient.user.headers
                )
                assert answer.status_code in (200, 204, 409), answer.text
        await asyncio.sleep(0.05)


async def test_storm_keeps_the_invariants(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    starts = [local(doctor, 2, f"{10 + i}:00") for i in range(SLOTS)]
    holders = [await make_patient(db, settings) for _ in starts]
    taken = [await booked(client, p, doctor, s) for p, s in zip(holders, starts, strict=True)]
    waiters = [await make_patient(db, settings) for _ in range(WAITERS)]
    grabbers = [await make_patient(db, settings) for _ in range(GRABBERS)]
    area = {"doctor_id": None, "specialty": "general-practice"}
    near = {"latitude": 48.86, "longitude": 2.37, "radius_km": 10}
    for i, waiter in enumerate(waiters):
        kind = [{}, {**area, "city": "Paris"}, {**area, "near": near}][i % 3]
        await join(client, waiter, doctor, **kind)

    async def cancel(patient: Patient, appointment: dict[str, object]) -> None:
        await client.delete(
            f"/api/v1/appointments/{appointment['id']}", headers=patient.user.headers
        )

    async def grab(patient: Patient) -> None:
        for _ in range(10):
            for start in starts[: SLOTS // 2]:  # the other half only the waitlist can take
                response = await book(client, patient, doctor, start)
                assert response.status_code in (201, 409), response.text
            await asyncio.sleep(0.02)

    await asyncio.gather(
        *(cancel(p, a) for p, a in zip(holders, taken, strict=True)),
        *(grab(g) for g in grabbers),
        *(_answer_offers(client, w, i) for i, w in enumerate(waiters)),
    )
    await settle(client, db)

    offers = await db.fetch(
        """SELECT o.status, o.start_at, o.entry_id, e.patient_id AS waiter, e.status AS entry,
                  CASE WHEN e.doctor_id IS NULL THEN 'area' ELSE 'doctor' END AS kind,
                  a.patient_id AS holder, a.status AS held, lower(a.period) AS held_at
           FROM waitlist.offers o
           JOIN waitlist.entries e ON e.id = o.entry_id
           JOIN scheduling.appointments a ON a.id = o.appointment_id"""
    )
    assert any(o["status"] != "open" for o in offers), "no offer was answered in the storm"
    kinds = {o["kind"] for o in offers}
    assert "doctor" in kinds and "area" in kinds, kinds
    for offer in offers:
        assert offer["holder"] == offer["waiter"] and offer["held_at"] == offer["start_at"]
        expected = {"open": "held", "accepted": "scheduled"}.get(offer["status"], "cancelled")
        assert offer["held"] == expected, dict(offer)
        if offer["status"] == "open":
            assert offer["entry"] == "offered"
    open_slots = [o["start_at"] for o in offers if o["status"] == "open"]
    assert len(open_slots) == len(set(open_slots))
    # One active appointment at most per slot: no offer of a slot someone booked.
    per_slot = await db.fetch(
        """SELECT lower(period) AS at, count(*) AS n FROM scheduling.appointments
           WHERE doctor_id = $1 AND status IN ('held', 'scheduled', 'confirmed')
           GROUP BY lower(period)""",
        doctor.id,
    )
    assert all(row["n"] == 1 for row in per_slot)
