"""A proxy puts a relative on the waitlist (issues #22 and #24): the entry is the relative's, the
offer comes to the proxy, and accepting books for the relative, booked by the proxy. Anyone who
does not manage the relative (now) gets the relatives API's 404 and changes nothing."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from server import clock
from server.settings import Settings
from tests.factories import Patient, make_patient
from tests.server.patients.test_relatives import add
from tests.server.patients.test_relatives import link as link_proxy
from tests.server.scheduling.helpers import booked, doctor_with_availability, events_of, local
from tests.server.waitlist.helpers import WAITLIST, entries, join, offer_for


async def _bell(db: asyncpg.Connection, who: Patient) -> asyncpg.Record:
    for _ in range(400):  # the notifications consumer runs after the relay
        bell = await db.fetchrow(
            "SELECT data FROM notify.in_app WHERE user_id = $1 AND kind = 'waitlist.offered'",
            who.user.id,
        )
        if bell is not None:
            return bell
        await asyncio.sleep(0.05)
    raise AssertionError("no waitlist.offered notification")


async def test_a_parent_waits_for_a_child_and_books_the_offer_for_them(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    parent = await make_patient(db, settings, first_name="Claire", last_name="Martin")
    canceller = await make_patient(db, settings)
    lea = await add(client, parent)
    start = local(doctor, 2, "10:00")
    taken = await booked(client, canceller, doctor, start)
    entry = await join(client, parent, doctor, patient_id=lea["id"])
    assert entry["patient_id"] == lea["id"]

    cancelled = await client.post(
        f"/api/v1/appointments/{taken['id']}/cancel", headers=canceller.user.headers
    )
    assert cancelled.status_code == 200, cancelled.text
    offer = await offer_for(client, parent)
    [offered] = await events_of(db, "waitlist.offered")
    assert offered["patient_id"] == lea["id"]
    assert offered["patient_user_id"] == str(parent.user.id)  # Léa has no login
    bell = await _bell(db, parent)
    assert bell["data"]["offer_id"] == offer["id"] and bell["data"]["patient_id"] == lea["id"]

    accepted = await client.post(
        f"{WAITLIST}/offers/{offer['id']}/accept", headers=parent.user.headers
    )
    assert accepted.status_code == 200, accepted.text
    booking = accepted.json()
    assert booking["patient_id"] == lea["id"] and booking["status"] == "scheduled"
    expected = {"id": str(parent.user.id), "name": "Claire Martin", "relationship": "CHILD"}
    assert booking["booked_by"] == expected
    agenda = await client.get(
        f"/api/v1/appointments/doctor/{doctor.id}", headers=doctor.user.headers
    )
    [item] = [a for a in agenda.json()["items"] if a["id"] == booking["id"]]
    assert item["booked_by"] == expected
    audit = await db.fetchrow(
        """SELECT user_id, resource_id, request_payload FROM audit.logs
           WHERE action = 'relative_appointment.book'"""
    )
    assert audit["user_id"] == parent.user.id and str(audit["resource_id"]) == lea["id"]
    assert audit["request_payload"]["appointment_id"] == booking["id"]
    assert await entries(client, parent) == []


async def test_a_parent_sees_and_leaves_a_childs_entry_beside_their_own(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    parent = await make_patient(db, settings)
    lea = await add(client, parent)
    mine = await join(client, parent, doctor)
    hers = await join(client, parent, doctor, patient_id=lea["id"])
    assert mine["patient_id"] == str(parent.id)
    listed = await entries(client, parent)
    assert [(e["id"], e["patient_id"]) for e in listed] == [
        (mine["id"], str(parent.id)),
        (hers["id"], lea["id"]),
    ]

    left = await client.delete(f"{WAITLIST}/{hers['id']}", headers=parent.user.headers)
    assert left.status_code == 204, left.text
    assert [e["id"] for e in await entries(client, parent)] == [mine["id"]]


async def _refused(
    client: httpx.AsyncClient, who: Patient, body: dict[str, Any], status: int = 404
) -> dict[str, Any]:
    answer = await client.post(WAITLIST, json=body, headers=who.user.headers)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = answer.json()
    return problem


async def test_someone_elses_unknown_or_unlinked_relative_is_refused_alike_and_stores_nothing(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    parent, stranger = [await make_patient(db, settings) for _ in range(2)]
    lea = await add(client, parent)
    now = clock.now()
    body = {
        "doctor_id": str(doctor.id),
        "visit_type": "in-person",
        "earliest": now.isoformat(),
        "latest": (now + timedelta(days=7)).isoformat(),
    }
    theirs = await _refused(client, stranger, {**body, "patient_id": lea["id"]})
    unknown = await _refused(client, parent, {**body, "patient_id": str(uuid.uuid4())})
    await db.execute(
        "UPDATE patients.relatives SET revoked_at = $2 WHERE relative_id = $1::uuid",
        lea["id"],
        now,
    )
    unlinked = await _refused(client, parent, {**body, "patient_id": lea["id"]})
    # The relatives API's answer, the same for all three: nothing tells them apart.
    for problem in (theirs, unknown, unlinked):
        assert (problem["status"], problem["code"]) == (404, "no-such-relative"), problem
        assert problem["type"] == theirs["type"] and problem["detail"] == theirs["detail"]
    as_doctor = await client.post(
        WAITLIST, json={**body, "patient_id": lea["id"]}, headers=doctor.user.headers
    )
    assert as_doctor.status_code == 403, as_doctor.text
    assert await db.fetchval("SELECT count(*) FROM waitlist.entries") == 0


async def test_a_stranger_cannot_see_leave_or_answer_a_childs_offer(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    parent, stranger, canceller = [await make_patient(db, settings) for _ in range(3)]
    lea = await add(client, parent)
    taken = await booked(client, canceller, doctor, local(doctor, 3, "09:00"))
    entry = await join(client, parent, doctor, patient_id=lea["id"])
    await client.delete(f"/api/v1/appointments/{taken['id']}", headers=canceller.user.headers)
    offer = await offer_for(client, parent)

    assert await entries(client, stranger) == []
    for method, path in [
        ("DELETE", f"{WAITLIST}/{entry['id']}"),
        ("POST", f"{WAITLIST}/offers/{offer['id']}/accept"),
        ("POST", f"{WAITLIST}/offers/{offer['id']}/decline"),
    ]:
        answer = await client.request(method, path, headers=stranger.user.headers)
        assert answer.status_code == 404, (method, path, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    [still] = await entries(client, parent)
    assert still["status"] == "offered" and still["offer"] == offer


@pytest.mark.parametrize("gone", ["revoked", "suspended"])
async def test_an_entry_whose_proxy_no_longer_acts_for_the_child_is_passed_over(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, gone: str
) -> None:
    """The proxy's link revoked (another carer takes over, the child's profile stays), or the
    proxy's account suspended: the entry is neither offered nor counted."""
    doctor = await doctor_with_availability(client, db, settings)
    parent, later, canceller = [await make_patient(db, settings) for _ in range(3)]
    lea = await add(client, parent)
    taken = await booked(client, canceller, doctor, local(doctor, 2, "15:00"))
    await join(client, parent, doctor, patient_id=lea["id"])  # joined first
    await join(client, later, doctor)
    counted = await client.get(f"{WAITLIST}/doctors/{doctor.id}/count", headers=doctor.user.headers)
    assert counted.json()["waiting"] == 2
    if gone == "revoked":
        await db.execute(
            "UPDATE patients.relatives SET revoked_at = $2 WHERE relative_id = $1::uuid",
            lea["id"],
            clock.now(),
        )
    else:
        await db.execute("UPDATE auth.users SET is_active = false WHERE id = $1", parent.user.id)

    await client.delete(f"/api/v1/appointments/{taken['id']}", headers=canceller.user.headers)
    assert (await offer_for(client, later))["doctor_id"] == str(doctor.id)
    if gone == "revoked":
        assert await entries(client, parent) == []
    assert await db.fetchval("SELECT count(*) FROM waitlist.offers") == 1
    counted = await client.get(f"{WAITLIST}/doctors/{doctor.id}/count", headers=doctor.user.headers)
    assert counted.json()["waiting"] == 1


async def test_another_proxy_of_the_child_sees_the_offer_and_books_it_as_themself(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    mother = await make_patient(db, settings, first_name="Claire", last_name="Martin")
    father = await make_patient(db, settings, first_name="Paul", last_name="Martin")
    canceller = await make_patient(db, settings)
    lea = await add(client, mother)
    await link_proxy(db, father, lea["id"])
    taken = await booked(client, canceller, doctor, local(doctor, 2, "11:00"))
    entry = await join(client, mother, doctor, patient_id=lea["id"])
    await client.delete(f"/api/v1/appointments/{taken['id']}", headers=canceller.user.headers)
    offer = await offer_for(client, mother)

    assert [e["id"] for e in await entries(client, father)] == [entry["id"]]
    accepted = await client.post(
        f"{WAITLIST}/offers/{offer['id']}/accept", headers=father.user.headers
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["booked_by"] == {
        "id": str(father.user.id),
        "name": "Paul Martin",
        "relationship": "CHILD",
    }


async def test_a_parent_declines_a_childs_offer_and_it_passes_on_audited(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    parent, next_in_line, canceller = [await make_patient(db, settings) for _ in range(3)]
    lea = await add(client, parent)
    taken = await booked(client, canceller, doctor, local(doctor, 4, "10:00"))
    await join(client, parent, doctor, patient_id=lea["id"])
    await join(client, next_in_line, doctor)
    await client.delete(f"/api/v1/appointments/{taken['id']}", headers=canceller.user.headers)
    offer = await offer_for(client, parent)

    declined = await client.post(
        f"{WAITLIST}/offers/{offer['id']}/decline", headers=parent.user.headers
    )
    assert declined.status_code == 204, declined.text
    assert (await offer_for(client, next_in_line))["start"] == offer["start"]
    audit = await db.fetchrow(
        """SELECT user_id, resource_id, request_payload FROM audit.logs
           WHERE action = 'relative_appointment.cancel'"""
    )
    assert audit["user_id"] == parent.user.id and str(audit["resource_id"]) == lea["id"]
    assert audit["request_payload"]["appointment_id"] == offer["appointment_id"]
