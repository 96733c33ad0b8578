"""A proxy who stops acting for a relative (removes them, or erases their own account) takes
their waitlist entries for that relative along, in the same transaction, as leaving would: an
open offer is declined (its hold cancelled, the slot passed on, audited), and the relative's
other proxies neither see the entry nor find it blocking a new one. Erasing the relative takes
every proxy's entries for them."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from server.settings import Settings
from tests.factories import make_patient, make_user
from tests.server.patients.test_relatives import URL, add, link
from tests.server.scheduling.helpers import booked, doctor_with_availability, local
from tests.server.waitlist.helpers import entries, join, offer_for

# Locking, authorization, audit and wording: no answer here depends on the hour (left out of
# the awkward-instant reruns, tools/dev.py).
pytestmark = pytest.mark.any_hour


async def _status(db: asyncpg.Connection, entry_id: str) -> str:
    status: str = await db.fetchval(
        "SELECT status FROM waitlist.entries WHERE id = $1::uuid", entry_id
    )
    return status


async def test_removing_a_relative_withdraws_the_proxys_entry_and_passes_its_offer_on(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    mother, father, next_in_line, canceller = [await make_patient(db, settings) for _ in range(4)]
    lea = await add(client, mother)
    await link(db, father, lea["id"])
    taken = await booked(client, canceller, doctor, local(doctor, 2, "10:00"))
    entry = await join(client, mother, doctor, patient_id=lea["id"])
    await join(client, next_in_line, doctor)
    await client.delete(f"/api/v1/appointments/{taken['id']}", headers=canceller.user.headers)
    offer = await offer_for(client, mother)

    removed = await client.delete(f"{URL}/{lea['id']}", headers=mother.user.headers)
    assert removed.status_code == 204, removed.text

    assert await entries(client, father) == []
    status = await db.fetchval(
        "SELECT status FROM waitlist.entries WHERE id = $1::uuid", entry["id"]
    )
    assert status == "left"
    held = await db.fetchrow(
        "SELECT status, cancellation_reason FROM scheduling.appointments WHERE id = $1::uuid",
        offer["appointment_id"],
    )
    assert (held["status"], held["cancellation_reason"]) == (
        "cancelled",
        "waitlist offer declined",
    )
    assert (
        await db.fetchval("SELECT status FROM waitlist.offers WHERE id = $1::uuid", offer["id"])
        == "declined"
    )
    assert (await offer_for(client, next_in_line))["start"] == offer["start"]
    audit = await db.fetchrow(
        """SELECT user_id, resource_id FROM audit.logs
           WHERE action = 'relative_appointment.cancel'"""
    )
    assert audit["user_id"] == mother.user.id and str(audit["resource_id"]) == lea["id"]
    # The father waits for Léa in his own name now: nothing of the mother's blocks him.
    again = await join(client, father, doctor, patient_id=lea["id"])
    assert [e["id"] for e in await entries(client, father)] == [again["id"]]


async def test_erasing_the_proxys_account_withdraws_their_entries_for_relatives(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    mother, father = [await make_patient(db, settings) for _ in range(2)]
    lea = await add(client, mother)
    await link(db, father, lea["id"])
    entry = await join(client, mother, doctor, patient_id=lea["id"])

    erased = await client.delete(f"/api/v1/patients/{mother.id}", headers=mother.user.headers)
    assert erased.status_code == 204, erased.text

    assert await entries(client, father) == []
    status = await db.fetchval(
        "SELECT status FROM waitlist.entries WHERE id = $1::uuid", entry["id"]
    )
    assert status == "left"
    await join(client, father, doctor, patient_id=lea["id"])


async def test_erasing_the_relative_withdraws_every_proxys_entries_for_them(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    mother, father = [await make_patient(db, settings) for _ in range(2)]
    admin = await make_user(db, settings, "admin")
    lea = await add(client, mother)
    await link(db, father, lea["id"])
    by_mother = await join(client, mother, doctor, patient_id=lea["id"])
    by_father = await join(
        client, father, doctor, patient_id=lea["id"], visit_type="teleconsultation"
    )

    erased = await client.delete(f"/api/v1/patients/{lea['id']}", headers=admin.headers)
    assert erased.status_code == 204, erased.text

    assert [await _status(db, e["id"]) for e in (by_mother, by_father)] == ["left", "left"]


async def test_an_offers_hold_does_not_keep_the_last_proxy_from_removing_the_relative(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    parent, next_in_line, canceller = [await make_patient(db, settings) for _ in range(3)]
    lea = await add(client, parent)
    taken = await booked(client, canceller, doctor, local(doctor, 3, "11:00"))
    await join(client, parent, doctor, patient_id=lea["id"])
    await join(client, next_in_line, doctor)
    await client.delete(f"/api/v1/appointments/{taken['id']}", headers=canceller.user.headers)
    offer = await offer_for(client, parent)

    # Nobody else acts for Léa: the hold goes with the entry, so it is no upcoming visit (409).
    removed = await client.delete(f"{URL}/{lea['id']}", headers=parent.user.headers)
    assert removed.status_code == 204, removed.text

    erased = await db.fetchval(
        "SELECT erased_at IS NOT NULL FROM patients.patients WHERE id = $1::uuid", lea["id"]
    )
    assert erased
    assert (await offer_for(client, next_in_line))["start"] == offer["start"]
