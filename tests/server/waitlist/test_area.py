"""Waiting for any doctor of a specialty in a city or within a radius, and offers of hours a
doctor adds: the same fair order (joined first, offered first) over every kind of entry."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx

from server import clock
from server.settings import Settings
from tests.factories import Patient, make_doctor, make_patient
from tests.server.scheduling.helpers import (
    availability,
    booked,
    doctor_with_availability,
    local,
    put_availability,
    slot_starts,
)
from tests.server.waitlist.helpers import WAITLIST, entries, join, offer_for

AREA = {"doctor_id": None, "specialty": "general-practice"}


async def _cancel(client: httpx.AsyncClient, who: Patient, appointment: dict[str, Any]) -> None:
    response = await client.post(
        f"/api/v1/appointments/{appointment['id']}/cancel", headers=who.user.headers
    )
    assert response.status_code == 200, response.text


async def test_a_city_entry_joined_first_is_offered_before_a_later_doctor_entry(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)  # Paris, general practice
    by_city, by_doctor, elsewhere, canceller = [await make_patient(db, settings) for _ in range(4)]
    start = local(doctor, 2, "10:00")
    taken = await booked(client, canceller, doctor, start)
    await join(client, elsewhere, doctor, **AREA, city="Lyon")
    await join(client, by_city, doctor, **AREA, city="paris")
    await join(client, by_doctor, doctor)

    await _cancel(client, canceller, taken)
    offer = await offer_for(client, by_city)

    assert offer["doctor_id"] == str(doctor.id)
    assert datetime.fromisoformat(offer["start"]) == start
    assert [e["offer"] for e in await entries(client, by_doctor)] == [None]
    assert [e["offer"] for e in await entries(client, elsewhere)] == [None]
    accepted = await client.post(
        f"{WAITLIST}/offers/{offer['id']}/accept", headers=by_city.user.headers
    )
    assert accepted.status_code == 200 and accepted.json()["doctor_id"] == str(doctor.id)


async def test_a_radius_entry_is_offered_a_slot_of_a_doctor_within_it(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings, city="Montreuil")
    near, far, canceller = [await make_patient(db, settings) for _ in range(3)]
    taken = await booked(client, canceller, doctor, local(doctor, 3, "11:00"))
    # The doctor is at 48.8589, 2.3795: about 1 km from the first point, 390 km from the other.
    await join(
        client, far, doctor, **AREA, near={"latitude": 45.76, "longitude": 4.84, "radius_km": 20}
    )
    entry = await join(
        client, near, doctor, **AREA, near={"latitude": 48.86, "longitude": 2.365, "radius_km": 5}
    )
    assert entry["near"]["radius_km"] == 5 and entry["doctor_id"] is None

    await _cancel(client, canceller, taken)
    offer = await offer_for(client, near)
    assert offer["doctor_id"] == str(doctor.id)
    assert [e["offer"] for e in await entries(client, far)] == [None]


async def test_an_area_entry_needs_a_known_specialty_and_a_place(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    patient = await make_patient(db, settings)
    now = clock.now()
    window = {"earliest": now.isoformat(), "latest": (now + timedelta(days=3)).isoformat()}
    cases = [
        ({"specialty": "general-practice"}, "waitlist-target"),
        ({"specialty": "no-such-thing", "city": "Paris"}, "unknown-specialty"),
        ({}, "waitlist-target"),
        (
            {
                "specialty": "general-practice",
                "city": "Paris",
                "reason_id": str(uuid.uuid4()),
            },
            "doctor-entry-only",
        ),
    ]
    for extra, code in cases:
        response = await client.post(
            WAITLIST,
            json={"visit_type": "in-person", **window, **extra},
            headers=patient.user.headers,
        )
        assert response.status_code == 422, response.text
        assert code in {e["code"] for e in response.json()["errors"]}, response.text


async def test_hours_a_doctor_adds_are_offered_to_the_patients_waiting(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    await put_availability(client, doctor, availability(rules=[]))
    waiting, by_city = [await make_patient(db, settings) for _ in range(2)]
    day = local(doctor, 3, "00:00")
    window = {"earliest": day.isoformat(), "latest": (day + timedelta(days=1)).isoformat()}
    await join(client, waiting, doctor, **window)
    await join(client, by_city, doctor, **AREA, city="Paris", **window)

    await put_availability(client, doctor, availability())  # 08:00-20:00 every day
    first = await offer_for(client, waiting)
    second = await offer_for(client, by_city)

    assert datetime.fromisoformat(first["start"]) == local(doctor, 3, "08:00")
    assert datetime.fromisoformat(second["start"]) == local(doctor, 3, "08:30")
    shown = await slot_starts(client, doctor, day, day + timedelta(days=1))
    assert local(doctor, 3, "08:00") not in shown and local(doctor, 3, "09:00") in shown


async def test_a_blank_city_or_a_doctor_entry_with_a_place_is_refused_and_stores_nothing(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """Found by hand: `city: "   "` made an entry for city "" (matching no doctor) that then
    held the patient's one entry for the specialty (409 already-waiting for a real city); and a
    doctor entry with a `city` or `near` stored and showed a place it never used."""
    doctor = await make_doctor(db, settings)
    patient = await make_patient(db, settings)
    now = clock.now()
    window = {
        "visit_type": "in-person",
        "earliest": now.isoformat(),
        "latest": (now + timedelta(days=3)).isoformat(),
    }
    near = {"latitude": 48.85, "longitude": 2.35, "radius_km": 10}
    cases = [
        ({"specialty": "general-practice", "city": "   "}, "city", "string_too_short"),
        ({"doctor_id": str(doctor.id), "city": "London"}, "city", "waitlist-target"),
        ({"doctor_id": str(doctor.id), "near": near}, "near", "waitlist-target"),
    ]
    for extra, field, code in cases:
        response = await client.post(
            WAITLIST, json={**window, **extra}, headers=patient.user.headers
        )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [(field, code)]
    assert await db.fetchval("SELECT count(*) FROM waitlist.entries") == 0
    joined = await client.post(
        WAITLIST,
        json={**window, "specialty": "general-practice", "city": "  Paris "},
        headers=patient.user.headers,
    )
    assert joined.status_code == 201 and joined.json()["city"] == "Paris", joined.text


async def test_a_city_entry_matches_the_doctors_city_whatever_its_case_and_accents(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """Cities compare as search folds them: "Beziers" is Béziers, "SAINT-ÉTIENNE" is
    Saint-Étienne; but Saint-Étienne-du-Rouvray, joined before them, is another town."""
    beziers = await doctor_with_availability(client, db, settings, city="Béziers")
    etienne = await doctor_with_availability(client, db, settings, city="Saint-Étienne")
    rouvray, plain, shouting, canceller = [await make_patient(db, settings) for _ in range(4)]
    in_beziers = await booked(client, canceller, beziers, local(beziers, 2, "10:00"))
    in_etienne = await booked(client, canceller, etienne, local(etienne, 2, "11:00"))
    await join(client, rouvray, etienne, **AREA, city="Saint-Étienne-du-Rouvray")
    await join(client, plain, beziers, **AREA, city="Beziers")
    await join(client, shouting, etienne, **AREA, city="SAINT-ÉTIENNE")

    await _cancel(client, canceller, in_beziers)
    await _cancel(client, canceller, in_etienne)

    assert (await offer_for(client, plain))["doctor_id"] == str(beziers.id)
    assert (await offer_for(client, shouting))["doctor_id"] == str(etienne.id)
    assert [e["offer"] for e in await entries(client, rouvray)] == [None]
    [entry] = await entries(client, shouting)
    assert entry["city"] == "SAINT-ÉTIENNE"  # shown as written


async def test_added_hours_reach_a_city_entry_spelt_without_accents(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings, city="Béziers")
    await put_availability(client, doctor, availability(rules=[]))
    patient = await make_patient(db, settings)
    day = local(doctor, 3, "00:00")
    window = {"earliest": day.isoformat(), "latest": (day + timedelta(days=1)).isoformat()}
    await join(client, patient, doctor, **AREA, city="beziers", **window)

    await put_availability(client, doctor, availability())
    offer = await offer_for(client, patient)
    assert datetime.fromisoformat(offer["start"]) == local(doctor, 3, "08:00")
