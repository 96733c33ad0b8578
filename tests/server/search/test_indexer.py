"""The indexer follows events: doctors appear, change and disappear, and bookings move the next
free slot, with no reindex in between (outbox -> relay -> NATS -> search-indexer)."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg
import httpx

from bus.events import (
    APPOINTMENT_CREATED,
    DOCTOR_CREATED,
    DOCTOR_DELETED,
    DOCTOR_REVIEWED,
    DOCTOR_UPDATED,
    SLOT_BOOKED,
    Envelope,
)
from bus.outbox import emit
from server import clock
from server.search.indexer import Refresh, refresh_plan
from server.settings import Settings
from tests.factories import Doctor, make_doctor, make_patient
from tests.server.scheduling.helpers import availability, booked, local, put_availability
from tests.server.search.helpers import eventually, names, reindex_now, search


async def _emit(db: asyncpg.Connection, event_type: str, doctor: Doctor, **data: object) -> None:
    async with db.transaction():
        await emit(
            db,
            event_type,
            f"doctor:{doctor.id}",
            {"doctor_id": str(doctor.id), **data},
            at=clock.now(),
        )


def _only_slot(doctor: Doctor, days_ahead: int) -> dict[str, object]:
    """Availability with exactly one 30-minute slot, `days_ahead` days from now at 10:00."""
    day = local(doctor, days_ahead, "10:00").date().isoformat()
    extra = {
        "kind": "extra-hours",
        "start_date": day,
        "end_date": day,
        "start": "10:00",
        "end": "10:30",
        "slot_minutes": 30,
        "visit_type": "in-person",
    }
    return availability([], exceptions=[extra], notice=0)


async def test_doctor_created_event_makes_the_doctor_searchable(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings, first_name="Yasmine", last_name="Haddad")
    assert await names(client, q="Haddad") == []  # inserted directly: no event yet

    await _emit(db, DOCTOR_CREATED, doctor)

    async def found() -> bool:
        return await names(client, q="Haddad") == ["Yasmine Haddad"]

    await eventually(found)


async def test_profile_edits_reviews_and_removals_follow_their_events(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings, first_name="Omar", last_name="Benali", city="Paris")
    await reindex_now(settings)
    assert await names(client, city="Paris") == ["Omar Benali"]

    # The doctors domain's own route emits doctor.updated.
    moved = await client.put(
        f"/api/v1/doctors/{doctor.id}", json={"city": "Nantes"}, headers=doctor.user.headers
    )
    assert moved.status_code == 200, moved.text

    async def in_nantes() -> bool:
        return await names(client, city="Nantes") == ["Omar Benali"]

    await eventually(in_nantes)
    assert await names(client, city="Paris") == []

    await db.execute("UPDATE doctors.doctors SET rating = 4.6, total_reviews = 3")
    await _emit(
        db,
        DOCTOR_REVIEWED,
        doctor,
        review_id=str(uuid.uuid4()),
        rating=5,
        average_rating=4.6,
        total_reviews=3,
    )

    async def rated() -> bool:
        items = (await search(client, q="Benali"))["items"]
        return bool(items) and items[0]["rating"] == 4.6 and items[0]["total_reviews"] == 3

    await eventually(rated)

    await db.execute("UPDATE doctors.doctors SET verification_status = 'rejected'")
    await _emit(db, DOCTOR_UPDATED, doctor)

    async def gone() -> bool:
        return await names(client, q="Benali") == []

    await eventually(gone)


async def test_doctor_deleted_event_removes_the_doctor(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings, first_name="Inès", last_name="Roussel")
    await reindex_now(settings)
    assert await names(client, q="Roussel") == ["Inès Roussel"]

    await _emit(db, DOCTOR_DELETED, doctor)

    async def gone() -> bool:
        return await names(client, q="Roussel") == []

    await eventually(gone)


def test_a_batch_asks_one_refresh_per_doctor_that_covers_all_its_events() -> None:
    a, b, c, d, e = (uuid.uuid4() for _ in range(5))

    def event(event_type: str, doctor_id: uuid.UUID, version: int | None = None) -> Envelope:
        data = {"doctor_id": str(doctor_id), "availability_version": version}
        return Envelope(type=event_type, subject="doctor", data=data, occurred_at=clock.now())

    nameless = Envelope(type=DOCTOR_UPDATED, subject="doctor", data={}, occurred_at=clock.now())
    plan = refresh_plan(
        [
            event(SLOT_BOOKED, a, 3),
            event(SLOT_BOOKED, b, 2),
            event(SLOT_BOOKED, c, 1),
            event(DOCTOR_UPDATED, d),
            event(DOCTOR_DELETED, e),
            nameless,
            event(APPOINTMENT_CREATED, a, 5),
            event(APPOINTMENT_CREATED, b),  # no version: always re-read
            event(SLOT_BOOKED, b, 7),
            event(DOCTOR_REVIEWED, c),
            event(SLOT_BOOKED, c, 9),  # the profile refresh re-reads the availability too
            event(DOCTOR_DELETED, d),
            event(DOCTOR_CREATED, e),
        ]
    )
    assert plan == {
        a: Refresh("availability", 5),
        b: Refresh("availability", None),
        c: Refresh("profile"),
        d: Refresh("deleted"),
        e: Refresh("profile"),
    }


async def test_one_batch_of_events_for_several_doctors_leaves_the_index_right(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    moving = await make_doctor(db, settings, first_name="Lina", last_name="Mercier", city="Paris")
    leaving = await make_doctor(db, settings, first_name="Hugo", last_name="Blanc", city="Paris")
    await reindex_now(settings)
    assert sorted(await names(client, city="Paris")) == ["Hugo Blanc", "Lina Mercier"]

    # One transaction: the relay publishes them together, the indexer takes them in a batch or
    # two (however the fetches split them).
    await db.execute("UPDATE doctors.doctors SET city = 'Nantes' WHERE id = $1", moving.id)
    async with db.transaction():
        for event_type, doctor in (
            (DOCTOR_UPDATED, moving),
            (DOCTOR_DELETED, leaving),
            (DOCTOR_UPDATED, moving),
        ):
            await _emit(db, event_type, doctor)

    async def applied() -> bool:
        return await names(client, city="Nantes") == ["Lina Mercier"] and not await names(
            client, q="Blanc"
        )

    await eventually(applied)
    assert await names(client, city="Paris") == []


async def test_booking_a_doctors_only_slot_moves_them_behind_in_next_available_order(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    early = await make_doctor(db, settings, first_name="Ada", last_name="Early")
    later = await make_doctor(db, settings, first_name="Bea", last_name="Later")
    patient = await make_patient(db, settings)
    await reindex_now(settings)
    await put_availability(client, early, _only_slot(early, 1))
    await put_availability(client, later, _only_slot(later, 2))

    async def ordered(expected: list[str]) -> bool:
        return await names(client, sort="next_available") == expected

    async def early_first() -> bool:  # from doctor.availability.updated events
        # Both indexed with a next slot: before that, name order alone could give this order.
        items = (await search(client, sort="next_available"))["items"]
        indexed = all(item["next_available"] for item in items)
        return indexed and [item["name"] for item in items] == ["Ada Early", "Bea Later"]

    await eventually(early_first)
    first = (await search(client, q="Early"))["items"][0]["next_available"]
    assert first is not None

    await booked(client, patient, early, local(early, 1, "10:00"))

    async def later_first() -> bool:  # from slot.booked / appointment.created
        return await ordered(["Bea Later", "Ada Early"])

    await eventually(later_first)
    [card] = (await search(client, q="Early"))["items"]
    assert card["next_available"] is None
    assert await names(client, available_within_days=3) == ["Bea Later"]


async def test_cancelling_frees_the_slot_in_search_again(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings, first_name="Cyril", last_name="Vidal")
    patient = await make_patient(db, settings)
    await reindex_now(settings)
    # Two days ahead at 10:00: past the patients' 24 h cancel cut-off, within 3 days, whatever
    # the hour the clock says.
    await put_availability(client, doctor, _only_slot(doctor, 2))
    slot = local(doctor, 2, "10:00")
    appointment = await booked(client, patient, doctor, slot)

    async def full() -> bool:
        return await names(client, available_within_days=3) == []

    await eventually(full)
    cancelled = await client.post(
        f"/api/v1/appointments/{appointment['id']}/cancel",
        json={"reason": "Feeling better"},
        headers=patient.user.headers,
    )
    assert cancelled.status_code == 200, cancelled.text

    async def free_again() -> bool:
        items = (await search(client, available_within_days=3))["items"]
        return [i["name"] for i in items] == ["Cyril Vidal"]

    await eventually(free_again)
    shown = (await search(client, q="Vidal"))["items"][0]["next_available"]
    assert datetime.fromisoformat(shown) == slot
