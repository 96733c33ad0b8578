"""An outsider's attacks on the waitlist for relatives and on removing a relative (issue #24):
malformed input, people who do not (or no longer) act for the relative, a doctor, two proxies
answering one offer at once, and a booking racing the removal of the relative's last carer."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from bus import events
from bus.events import Envelope
from server import clock
from server.notifications.waitlist import apply_waitlist_event
from server.settings import Settings
from storage import waitlist as waitlist_store
from tests.factories import make_patient
from tests.server.patients.test_relatives import URL as RELATIVES
from tests.server.patients.test_relatives import add, link
from tests.server.scheduling.helpers import book, booked, doctor_with_availability, local
from tests.server.waitlist.helpers import WAITLIST, entries, join, offer_for, settle

# Locking, authorization, audit and wording: no answer here depends on the hour (left out of
# the awkward-instant reruns, tools/dev.py).
pytestmark = pytest.mark.any_hour


def _window() -> dict[str, str]:
    now = clock.now()
    return {"earliest": now.isoformat(), "latest": (now + timedelta(days=7)).isoformat()}


def _is_problem(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json", answer.headers
    problem: dict[str, Any] = answer.json()
    assert problem["status"] == status and problem["code"], problem
    return problem


@pytest.mark.parametrize(
    "patient_id",
    ["not-a-uuid", 123, 1.5, True, [], {"id": "x"}, "", "0" * 100_000],
    ids=["text", "int", "float", "bool", "list", "object", "empty", "huge"],
)
async def test_a_malformed_patient_id_is_a_422_problem_and_stores_nothing(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, patient_id: Any
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    parent = await make_patient(db, settings)
    await add(client, parent)
    body = {"doctor_id": str(doctor.id), "visit_type": "in-person", **_window()}
    answer = await client.post(
        WAITLIST, json={**body, "patient_id": patient_id}, headers=parent.user.headers
    )
    problem = _is_problem(answer, 422)
    assert [e["field"] for e in problem["errors"]] == ["patient_id"], problem
    assert await db.fetchval("SELECT count(*) FROM waitlist.entries") == 0


async def test_huge_strings_and_bad_ids_in_the_path_are_4xx_problems(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    parent = await make_patient(db, settings)
    lea = await add(client, parent)
    huge = "É" * 200_000
    area = {"specialty": "general-practice", "visit_type": "in-person", **_window()}
    for extra in ({"city": huge}, {"specialty": huge, "city": "Paris"}):
        answer = await client.post(
            WAITLIST, json={**area, "patient_id": lea["id"], **extra}, headers=parent.user.headers
        )
        _is_problem(answer, 422)
    for method, path in [
        ("DELETE", f"{WAITLIST}/not-a-uuid"),
        ("POST", f"{WAITLIST}/offers/not-a-uuid/accept"),
        ("POST", f"{WAITLIST}/offers/{'9' * 5000}/decline"),
        ("DELETE", f"{RELATIVES}/not-a-uuid"),
    ]:
        _is_problem(await client.request(method, path, headers=parent.user.headers), 422)
    unknown = await client.delete(f"{RELATIVES}/{uuid.uuid4()}", headers=parent.user.headers)
    assert _is_problem(unknown, 404)["code"] == "no-such-relative"
    assert await db.fetchval("SELECT count(*) FROM waitlist.entries") == 0


async def test_an_entry_cannot_move_an_appointment_of_someone_else_in_the_family(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """`replaces_appointment_id` is the entry's patient's own: a parent cannot have the child's
    entry cancel the parent's visit, nor their own entry cancel the child's."""
    doctor = await doctor_with_availability(client, db, settings)
    parent = await make_patient(db, settings)
    lea = await add(client, parent)
    mine = await booked(client, parent, doctor, local(doctor, 5, "10:00"))
    hers = await booked(client, parent, doctor, local(doctor, 5, "11:00"), patient_id=lea["id"])
    body = {"doctor_id": str(doctor.id), "visit_type": "in-person", **_window()}
    for whom, replaced in ((lea["id"], mine["id"]), (None, hers["id"])):
        answer = await client.post(
            WAITLIST,
            json={**body, "patient_id": whom, "replaces_appointment_id": replaced},
            headers=parent.user.headers,
        )
        _is_problem(answer, 404)
    assert await db.fetchval("SELECT count(*) FROM waitlist.entries") == 0


async def test_a_parent_who_removed_the_child_loses_the_entry_the_other_parent_keeps_it(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """The mother joined for Léa and got the offer, then removed Léa (the father stays her
    carer): she no longer sees, leaves or answers it; a doctor never could. Her entry left with
    her link (the offer declined, README "Waitlist"), so the father may join for Léa afresh."""
    doctor = await doctor_with_availability(client, db, settings)
    mother, father, canceller = [await make_patient(db, settings) for _ in range(3)]
    lea = await add(client, mother)
    await link(db, father, lea["id"])
    taken = await booked(client, canceller, doctor, local(doctor, 2, "10:00"))
    entry = await join(client, mother, doctor, patient_id=lea["id"])
    await client.delete(f"/api/v1/appointments/{taken['id']}", headers=canceller.user.headers)
    offer = await offer_for(client, mother)

    gone = await client.delete(f"{RELATIVES}/{lea['id']}", headers=mother.user.headers)
    assert gone.status_code == 204, gone.text  # the father still acts for Léa
    assert await entries(client, mother) == []
    attempts = [
        ("DELETE", f"{WAITLIST}/{entry['id']}"),
        ("POST", f"{WAITLIST}/offers/{offer['id']}/decline"),
        ("POST", f"{WAITLIST}/offers/{offer['id']}/accept"),
    ]
    for method, path in attempts:
        answer = await client.request(method, path, headers=mother.user.headers)
        _is_problem(answer, 404)
        answer = await client.request(method, path, headers=doctor.user.headers)
        _is_problem(answer, 403)
    _is_problem(await client.get(WAITLIST, headers=doctor.user.headers), 403)
    again = await client.post(
        WAITLIST,
        json={
            "doctor_id": str(doctor.id),
            "visit_type": "teleconsultation",
            "patient_id": lea["id"],
        }
        | _window(),
        headers=mother.user.headers,
    )
    assert _is_problem(again, 404)["code"] == "no-such-relative"

    assert await entries(client, father) == []
    declined = await db.fetchval(
        "SELECT status FROM waitlist.offers WHERE id = $1", uuid.UUID(offer["id"])
    )
    assert declined == "declined"
    rejoined = await join(client, father, doctor, patient_id=lea["id"])
    assert rejoined["patient_id"] == lea["id"]


async def test_two_parents_accepting_one_offer_at_once_book_it_once(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    mother, father, canceller = [await make_patient(db, settings) for _ in range(3)]
    lea = await add(client, mother)
    await link(db, father, lea["id"])
    taken = await booked(client, canceller, doctor, local(doctor, 2, "14:00"))
    await join(client, mother, doctor, patient_id=lea["id"])
    await client.delete(f"/api/v1/appointments/{taken['id']}", headers=canceller.user.headers)
    offer = await offer_for(client, mother)

    answers = await asyncio.gather(
        *(
            client.post(f"{WAITLIST}/offers/{offer['id']}/{verb}", headers=who.user.headers)
            for who, verb in ((mother, "accept"), (father, "accept"), (father, "decline"))
        )
    )
    codes = sorted(a.status_code for a in answers)
    assert codes in ([200, 409, 409], [204, 409, 409]), [a.text for a in answers]
    for answer in answers:
        if answer.status_code == 409:
            assert _is_problem(answer, 409)["code"] == "offer-closed"
    booked_rows = await db.fetchval(
        """SELECT count(*) FROM scheduling.appointments
           WHERE patient_id = $1::uuid AND status IN ('held', 'scheduled', 'confirmed')""",
        lea["id"],
    )
    assert booked_rows == (1 if 200 in codes else 0)
    proxy_actions = await db.fetchval(
        "SELECT count(*) FROM audit.logs WHERE action LIKE 'relative_appointment.%'"
    )
    assert proxy_actions == 1


async def test_a_booking_racing_the_removal_of_the_last_carer_leaves_nobody_acting(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """The removal takes the relative's row lock first and the booking for them, whose link
    check already passed, inserts behind it: either the booking is refused or the removal is
    (409), never an upcoming visit of an erased relative nobody acts for."""
    doctor = await doctor_with_availability(client, db, settings)
    parent = await make_patient(db, settings)
    lea = await add(client, parent)
    # The test holds Léa's row so both requests line up behind it, the removal first.
    tx = db.transaction()
    await tx.start()
    await db.execute("SELECT 1 FROM patients.patients WHERE id = $1::uuid FOR UPDATE", lea["id"])
    removal = asyncio.create_task(
        client.delete(f"{RELATIVES}/{lea['id']}", headers=parent.user.headers)
    )
    await _waiting_on_a_lock(db, 1)
    booking = asyncio.create_task(
        book(client, parent, doctor, local(doctor, 3, "10:00"), patient_id=lea["id"])
    )
    await _waiting_on_a_lock(db, 2)
    await tx.rollback()
    removed, made = await removal, await booking

    erased = await db.fetchval(
        "SELECT erased_at IS NOT NULL FROM patients.patients WHERE id = $1::uuid", lea["id"]
    )
    acting = await db.fetchval(
        "SELECT count(*) FROM patients.acting_users WHERE patient_id = $1::uuid", lea["id"]
    )
    upcoming = await db.fetchval(
        """SELECT count(*) FROM scheduling.appointments
           WHERE patient_id = $1::uuid AND status IN ('held', 'scheduled', 'confirmed')""",
        lea["id"],
    )
    assert not (upcoming and acting == 0), (removed.status_code, made.status_code, erased)


async def _waiting_on_a_lock(db: asyncpg.Connection, count: int) -> None:
    """Until `count` other backends of this database wait for a lock."""
    for _ in range(400):
        waiting = await db.fetchval(
            """SELECT count(*) FROM pg_stat_activity
               WHERE datname = current_database() AND wait_event_type = 'Lock'
                 AND pid <> pg_backend_pid()"""
        )
        if waiting >= count:
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"fewer than {count} requests waited for the lock")


async def test_an_offer_handled_after_the_proxy_stopped_managing_the_child_reaches_nobody(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """The notifications consumer handles an offer's event late (after an outage): by then the
    mother who joined for Léa has stopped managing her; she hears nothing of Léa's slot."""
    doctor = await doctor_with_availability(client, db, settings)
    mother, father, canceller = [await make_patient(db, settings) for _ in range(3)]
    lea = await add(client, mother)
    await link(db, father, lea["id"])
    taken = await booked(client, canceller, doctor, local(doctor, 2, "16:00"))
    await join(client, mother, doctor, patient_id=lea["id"])
    await client.delete(f"/api/v1/appointments/{taken['id']}", headers=canceller.user.headers)
    await offer_for(client, mother)
    for _ in range(400):  # the first delivery, while she still managed Léa
        if await _offers_heard(db, mother) == 1:
            break
        await asyncio.sleep(0.05)
    gone = await client.delete(f"{RELATIVES}/{lea['id']}", headers=mother.user.headers)
    assert gone.status_code == 204, gone.text

    row = await db.fetchrow("SELECT * FROM bus.outbox WHERE type = $1", events.WAITLIST_OFFERED)
    late = Envelope(
        type=row["type"], occurred_at=clock.now(), subject=row["subject"], data=row["data"]
    )  # the same offer, a delivery the consumer has not handled yet
    async with db.transaction():
        await apply_waitlist_event(db, settings, late)
    assert await _offers_heard(db, mother) == 1


async def _offers_heard(db: asyncpg.Connection, who: Any) -> int:
    count: int = await db.fetchval(
        "SELECT count(*) FROM notify.in_app WHERE user_id = $1 AND kind = 'waitlist.offered'",
        who.user.id,
    )
    return count


async def test_leaving_while_an_offer_is_being_made_leaves_no_open_offer_behind(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """The parent leaves Léa's entry while the waitlist consumer is making her an offer (the
    entry's row locked, the hold and the offer written, not yet committed): once both are done,
    either the offer was declined with the entry or the entry still waits with its offer."""
    doctor = await doctor_with_availability(client, db, settings)
    parent = await make_patient(db, settings)
    lea = await add(client, parent)
    entry = await join(client, parent, doctor, patient_id=lea["id"])
    start, now = local(doctor, 2, "09:00"), clock.now()
    # What offers.py does for a freed slot, in the test's own transaction.
    tx = db.transaction()
    await tx.start()
    await db.execute("SELECT 1 FROM waitlist.entries WHERE id = $1::uuid FOR UPDATE", entry["id"])
    held = uuid.uuid4()
    await db.execute(
        """INSERT INTO scheduling.appointments (id, doctor_id, patient_id, period, visit_type,
                                                status, fee, currency, hold_expires_at)
           VALUES ($1, $2, $3::uuid, tstzrange($4, $5, '[)'), 'in-person', 'held', 3000, 'EUR',
                   $6)""",
        held,
        doctor.id,
        lea["id"],
        start,
        start + timedelta(minutes=30),
        now + timedelta(minutes=10),
    )
    await waitlist_store.insert_offer(
        db,
        uuid.uuid4(),
        uuid.UUID(entry["id"]),
        held,
        doctor.id,
        start,
        start + timedelta(minutes=30),
        "in-person",
        now + timedelta(minutes=10),
        now,
    )
    leaving = asyncio.create_task(
        client.delete(f"{WAITLIST}/{entry['id']}", headers=parent.user.headers)
    )
    await _waiting_on_a_lock(db, 1)
    await tx.commit()
    left = await leaving

    state = await db.fetchrow(
        """SELECT e.status AS entry, o.status AS offer, a.status AS hold
           FROM waitlist.entries e JOIN waitlist.offers o ON o.entry_id = e.id
           JOIN scheduling.appointments a ON a.id = o.appointment_id
           WHERE e.id = $1::uuid""",
        entry["id"],
    )
    assert (left.status_code, dict(state)) in (
        (204, {"entry": "left", "offer": "declined", "hold": "cancelled"}),
        (409, {"entry": "offered", "offer": "open", "hold": "held"}),
    ), (left.status_code, dict(state))


async def test_removing_the_child_while_her_offer_is_accepted_is_refused_either_way(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """The only parent accepts Léa's offer and removes Léa at once. They serialize on the link
    (README "Removing a relative with upcoming appointments"): the accept first, then the hold
    (or the booking it became) is an upcoming visit, so the removal is a 409 naming it and Léa
    stays; or the removal first (the offer declined with the entry, Léa erased), then the
    accept is refused as a revoked link's (404 `no-such-offer`) and books nothing."""
    doctor = await doctor_with_availability(client, db, settings)
    parent, canceller = [await make_patient(db, settings) for _ in range(2)]
    lea = await add(client, parent)
    taken = await booked(client, canceller, doctor, local(doctor, 3, "15:00"))
    await join(client, parent, doctor, patient_id=lea["id"])
    await client.delete(f"/api/v1/appointments/{taken['id']}", headers=canceller.user.headers)
    offer = await offer_for(client, parent)

    accepted, removed = await asyncio.gather(
        client.post(f"{WAITLIST}/offers/{offer['id']}/accept", headers=parent.user.headers),
        client.delete(f"{RELATIVES}/{lea['id']}", headers=parent.user.headers),
    )
    erased = await db.fetchval(
        "SELECT erased_at FROM patients.patients WHERE id = $1::uuid", lea["id"]
    )
    if removed.status_code == 204:  # the removal went first
        assert _is_problem(accepted, 404)["code"] == "no-such-offer"
        assert erased is not None
        status = await db.fetchval(
            "SELECT status FROM scheduling.appointments WHERE id = $1::uuid",
            offer["appointment_id"],
        )
        assert status == "cancelled"
        return
    assert accepted.status_code == 200, accepted.text
    problem = _is_problem(removed, 409)
    assert problem["code"] == "relative-has-upcoming-appointments"
    assert [a["id"] for a in problem["appointments"]] == [offer["appointment_id"]]
    assert problem["appointments"][0]["status"] in ("held", "scheduled")
    assert erased is None


async def test_a_childs_city_entry_spelt_plainly_finds_rouvray_and_not_saint_etienne(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """A parent waits for Léa for any GP in "saint etienne du rouvray" (no capitals, accents nor
    hyphens): a slot in Saint-Étienne-du-Rouvray is hers, one in Saint-Étienne is not."""
    rouvray = await doctor_with_availability(client, db, settings, city="Saint-Étienne-du-Rouvray")
    etienne = await doctor_with_availability(client, db, settings, city="Saint-Étienne")
    parent, canceller = [await make_patient(db, settings) for _ in range(2)]
    lea = await add(client, parent)
    near_etienne = await booked(client, canceller, etienne, local(etienne, 2, "09:00"))
    in_rouvray = await booked(client, canceller, rouvray, local(rouvray, 2, "11:00"))
    area = {"doctor_id": None, "specialty": "general-practice", "city": "saint etienne du rouvray"}
    entry = await join(client, parent, rouvray, patient_id=lea["id"], **area)
    assert entry["city"] == "saint etienne du rouvray" and entry["patient_id"] == lea["id"]

    for taken in (near_etienne, in_rouvray):  # Saint-Étienne's slot frees first
        cancelled = await client.post(
            f"/api/v1/appointments/{taken['id']}/cancel", headers=canceller.user.headers
        )
        assert cancelled.status_code == 200, cancelled.text
    offer = await offer_for(client, parent)
    assert offer["doctor_id"] == str(rouvray.id)
    await settle(client, db)
    offered = await db.fetchval("SELECT count(*) FROM waitlist.offers")
    assert offered == 1


async def test_both_parents_joining_for_the_child_at_once_make_one_entry(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    mother, father = [await make_patient(db, settings) for _ in range(2)]
    lea = await add(client, mother)
    await link(db, father, lea["id"])
    body = {"doctor_id": str(doctor.id), "visit_type": "in-person", "patient_id": lea["id"]}
    answers = await asyncio.gather(
        *(
            client.post(WAITLIST, json=body | _window(), headers=who.user.headers)
            for who in (mother, father)
        )
    )
    assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
    [refused] = [a for a in answers if a.status_code == 409]
    assert _is_problem(refused, 409)["code"] == "already-waiting"
    [made] = [a.json() for a in answers if a.status_code == 201]
    for who in (mother, father):
        assert [e["id"] for e in await entries(client, who)] == [made["id"]]


async def test_a_suspended_other_parent_does_not_make_the_removal_safe(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    mother, father = [await make_patient(db, settings) for _ in range(2)]
    lea = await add(client, mother)
    await link(db, father, lea["id"])
    await booked(client, mother, doctor, local(doctor, 2, "10:00"), patient_id=lea["id"])
    # An admin suspended the father's account (as /admin/users/{id}/suspend leaves it).
    await db.execute("UPDATE auth.users SET is_active = false WHERE id = $1", father.user.id)

    removed = await client.delete(f"{RELATIVES}/{lea['id']}", headers=mother.user.headers)
    assert _is_problem(removed, 409)["code"] == "relative-has-upcoming-appointments"


async def test_a_suspended_proxys_entry_is_passed_over_for_the_next_waiting_patient(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """The mother joined for Léa first, another patient after her; then an admin suspended the
    mother's account. Since 0037 she acts for nobody (patients.acting_users) and her offer's
    notice would reach nobody: the freed slot goes to the next waiting patient, not held
    unheard for Léa until the offer lapses."""
    doctor = await doctor_with_availability(client, db, settings)
    mother, other, canceller = [await make_patient(db, settings) for _ in range(3)]
    lea = await add(client, mother)
    taken = await booked(client, canceller, doctor, local(doctor, 2, "11:00"))
    first = await join(client, mother, doctor, patient_id=lea["id"])
    await join(client, other, doctor)
    # An admin suspended the mother's account (as /admin/users/{id}/suspend leaves it).
    await db.execute("UPDATE auth.users SET is_active = false WHERE id = $1", mother.user.id)

    await client.delete(f"/api/v1/appointments/{taken['id']}", headers=canceller.user.headers)
    offer = await offer_for(client, other)
    assert offer["start"] is not None
    held_for_lea = await db.fetchval(
        "SELECT count(*) FROM waitlist.offers WHERE entry_id = $1", uuid.UUID(first["id"])
    )
    assert held_for_lea == 0


async def test_a_suspended_patients_own_entry_is_passed_over_for_the_next_waiting_patient(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """As for a suspended proxy: a suspended patient acts for nobody, themself included
    (0037), and hears of no offer; the freed slot goes to the next waiting patient."""
    doctor = await doctor_with_availability(client, db, settings)
    suspended, other, canceller = [await make_patient(db, settings) for _ in range(3)]
    taken = await booked(client, canceller, doctor, local(doctor, 2, "11:00"))
    first = await join(client, suspended, doctor)
    await join(client, other, doctor)
    await db.execute("UPDATE auth.users SET is_active = false WHERE id = $1", suspended.user.id)

    await client.delete(f"/api/v1/appointments/{taken['id']}", headers=canceller.user.headers)
    await settle(client, db)
    held_for_suspended = await db.fetchval(
        "SELECT count(*) FROM waitlist.offers WHERE entry_id = $1", uuid.UUID(first["id"])
    )
    assert held_for_suspended == 0
    assert (await offer_for(client, other))["start"] is not None
