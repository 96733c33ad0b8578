"""A proxy's booking, accepted offer or move for a relative, racing the removal of that relative:
both take the proxy's link first (the booking FOR SHARE, the removal FOR UPDATE), so one of them
goes first and the other sees it. Never an upcoming visit of a relative nobody acts for any more.

Each race is pinned down with a lock a third connection holds: the proxy's action starts and
waits on it, the removal starts, and the lock goes once the removal waits too (or is done)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx

from server.settings import Settings
from tests.factories import make_patient
from tests.server.notifications.helpers import eventually
from tests.server.patients.test_relatives import URL, add, link
from tests.server.scheduling.helpers import book, booked, doctor_with_availability, local
from tests.server.waitlist.helpers import join, offer_for

Request = Callable[[], Awaitable[httpx.Response]]


async def _race(
    database_url: str, lock: str, first: Request, second: Request, *args: object
) -> tuple[httpx.Response, httpx.Response]:
    """`first` runs into the lock `lock` (SQL, with `args`) takes in a third connection; then
    `second` starts, and the lock is let go once `second` waits on a lock too or has answered."""
    holder, watcher = await asyncpg.connect(database_url), await asyncpg.connect(database_url)

    async def waiting() -> int:
        count: int = await watcher.fetchval(
            """SELECT count(*) FROM pg_stat_activity
               WHERE datname = current_database() AND wait_event_type = 'Lock'"""
        )
        return count

    try:
        async with holder.transaction():
            await holder.execute(lock, *args)
            ahead = asyncio.create_task(first())
            await eventually(waiting, lambda n: n >= 1)
            behind = asyncio.create_task(second())

            async def settled() -> bool:
                return behind.done() or await waiting() >= 2

            await eventually(settled, bool)
        return await ahead, await behind
    finally:
        await holder.close()
        await watcher.close()


async def _appointments(db: asyncpg.Connection, patient_id: str) -> list[str]:
    rows = await db.fetch(
        """SELECT status FROM scheduling.appointments WHERE patient_id = $1::uuid
           AND status IN ('held', 'scheduled', 'confirmed') ORDER BY created_at""",
        patient_id,
    )
    return [r["status"] for r in rows]


async def _erased(db: asyncpg.Connection, patient_id: str) -> bool:
    erased: bool = await db.fetchval(
        "SELECT erased_at IS NOT NULL FROM patients.patients WHERE id = $1::uuid", patient_id
    )
    return erased


async def test_a_booking_under_way_for_the_relative_keeps_the_last_proxy_from_removing_them(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, database_url: str
) -> None:
    """The booking has checked the link and waits inside its booking statement (on the
    doctor's version, held here); the removal must wait for it, then see its appointment."""
    doctor = await doctor_with_availability(client, db, settings)
    parent = await make_patient(db, settings)
    lea = await add(client, parent)

    booking, removal = await _race(
        database_url,
        "LOCK TABLE scheduling.availability_versions IN EXCLUSIVE MODE",
        lambda: book(client, parent, doctor, local(doctor, 2, "10:00"), patient_id=lea["id"]),
        lambda: client.delete(f"{URL}/{lea['id']}", headers=parent.user.headers),
    )

    assert booking.status_code == 201, booking.text
    assert removal.status_code == 409, removal.text
    assert removal.json()["code"] == "relative-has-upcoming-appointments"
    assert [a["id"] for a in removal.json()["appointments"]] == [booking.json()["id"]]
    assert not await _erased(db, lea["id"])
    assert await _appointments(db, lea["id"]) == ["scheduled"]


async def test_a_removal_under_way_refuses_the_booking_as_a_revoked_link(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, database_url: str
) -> None:
    """The other way round: the removal holds the link (and waits on the relative's row, held
    here), the booking comes after it and finds the link revoked (403, nothing booked)."""
    doctor = await doctor_with_availability(client, db, settings)
    parent = await make_patient(db, settings)
    lea = await add(client, parent)

    removal, booking = await _race(
        database_url,
        "SELECT 1 FROM patients.patients WHERE id = $1::uuid FOR SHARE",
        lambda: client.delete(f"{URL}/{lea['id']}", headers=parent.user.headers),
        lambda: book(client, parent, doctor, local(doctor, 2, "10:00"), patient_id=lea["id"]),
        lea["id"],
    )

    assert removal.status_code == 204, removal.text
    assert booking.status_code == 403, booking.text
    assert booking.json()["code"] == "book-for-self"
    assert await _erased(db, lea["id"])
    assert await _appointments(db, lea["id"]) == []


async def test_bookings_racing_the_removal_never_both_go_through(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """Unpinned: whichever wins, a relative left with nobody has no upcoming visit."""
    doctor = await doctor_with_availability(client, db, settings)
    parent = await make_patient(db, settings)
    for i in range(8):
        lea = await add(client, parent)
        start = local(doctor, 2 + i // 4, f"{9 + i % 4:02d}:00")
        booking, removal = await asyncio.gather(
            book(client, parent, doctor, start, patient_id=lea["id"]),
            client.delete(f"{URL}/{lea['id']}", headers=parent.user.headers),
        )
        outcome = (booking.status_code, removal.status_code)
        assert outcome in ((201, 409), (403, 204)), (booking.text, removal.text)
        assert await _erased(db, lea["id"]) == (removal.status_code == 204)


async def _offered(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """A parent, their child Léa (nobody else acts for her) and the offer Léa's entry got."""
    doctor = await doctor_with_availability(client, db, settings)
    parent, canceller = [await make_patient(db, settings) for _ in range(2)]
    lea = await add(client, parent)
    taken = await booked(client, canceller, doctor, local(doctor, 2, "10:00"))
    await join(client, parent, doctor, patient_id=lea["id"])
    await client.delete(f"/api/v1/appointments/{taken['id']}", headers=canceller.user.headers)
    return parent, lea, await offer_for(client, parent)


async def test_an_offer_being_accepted_for_the_relative_keeps_the_last_proxy_from_removing_them(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, database_url: str
) -> None:
    """The accept waits on the offer's row (held here); the removal, which would decline that
    offer, must wait for the accept (not lock the entry first and deadlock with it), then see
    the booking it made."""
    parent, lea, offer = await _offered(client, db, settings)

    accepted, removal = await _race(
        database_url,
        "SELECT 1 FROM waitlist.offers WHERE id = $1::uuid FOR UPDATE",
        lambda: client.post(
            f"/api/v1/waitlist/offers/{offer['id']}/accept", headers=parent.user.headers
        ),
        lambda: client.delete(f"{URL}/{lea['id']}", headers=parent.user.headers),
        offer["id"],
    )

    assert accepted.status_code == 200, accepted.text
    assert removal.status_code == 409, removal.text
    assert [a["id"] for a in removal.json()["appointments"]] == [offer["appointment_id"]]
    assert not await _erased(db, lea["id"])
    assert len(await _appointments(db, lea["id"])) == 1


async def test_a_removal_under_way_refuses_the_accept_as_a_revoked_link(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, database_url: str
) -> None:
    parent, lea, offer = await _offered(client, db, settings)

    removal, accepted = await _race(
        database_url,
        "SELECT 1 FROM patients.patients WHERE id = $1::uuid FOR SHARE",
        lambda: client.delete(f"{URL}/{lea['id']}", headers=parent.user.headers),
        lambda: client.post(
            f"/api/v1/waitlist/offers/{offer['id']}/accept", headers=parent.user.headers
        ),
        lea["id"],
    )

    assert removal.status_code == 204, removal.text
    # What a revoked link gets: the offer is none of the caller's.
    assert accepted.status_code == 404, accepted.text
    assert accepted.json()["code"] == "no-such-offer"
    assert await _erased(db, lea["id"])
    assert await _appointments(db, lea["id"]) == []


async def test_a_revoked_proxy_moves_nothing_once_the_removal_went_first(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, database_url: str
) -> None:
    """Léa's father still acts for her, so the mother's removal goes through; her move of
    Léa's visit, read as hers before the removal, then finds the link revoked (404)."""
    doctor = await doctor_with_availability(client, db, settings)
    mother, father = [await make_patient(db, settings) for _ in range(2)]
    lea = await add(client, mother)
    await link(db, father, lea["id"])
    visit = await booked(client, mother, doctor, local(doctor, 2, "10:00"), patient_id=lea["id"])

    removal, moved = await _race(
        database_url,
        "SELECT 1 FROM patients.patients WHERE id = $1::uuid FOR SHARE",
        lambda: client.delete(f"{URL}/{lea['id']}", headers=mother.user.headers),
        lambda: client.post(
            f"/api/v1/appointments/{visit['id']}/reschedule",
            json={"start": local(doctor, 3, "10:00").isoformat()},
            headers=mother.user.headers,
        ),
        lea["id"],
    )

    assert removal.status_code == 204, removal.text
    assert moved.status_code == 404, moved.text
    start = await db.fetchval(
        "SELECT lower(period) FROM scheduling.appointments WHERE id = $1::uuid", visit["id"]
    )
    assert start == local(doctor, 2, "10:00")
