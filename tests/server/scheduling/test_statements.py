"""How many SQL statements a slots page and a booking cost (issue #19): counted on the wire by
asyncpg's query logger on a one-connection pool, whatever the range and the cache's state."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from types import SimpleNamespace
from typing import cast

import asyncpg
import httpx
import pytest

from server import clock
from server.auth.principal import Claim, Principal
from server.engines import Engines
from server.errors import Unauthenticated
from server.scheduling import slots as slot_service
from server.scheduling.errors import SlotTaken
from server.scheduling.schemas import BookingRequest
from server.scheduling.service import book_appointment, list_available_slots
from server.settings import Settings
from storage.pool import open_pool
from tests.factories import Patient, make_patient
from tests.server.scheduling.helpers import (
    availability,
    doctor_with_availability,
    every_day,
    local,
)

# asyncpg's own statements: the pool's reset on release, and the type introspection it runs
# once per connection for a type it has not met yet (with JIT switched off around it).
_DRIVER = (
    "pg_advisory_unlock_all()",
    "typeinfo_tree",
    "current_setting('jit')",
    "set_config('jit'",
)


class Wire:
    """The statements a one-connection pool sends for the application."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.sent: list[str] = []

    def clear(self) -> list[str]:
        sent, self.sent = self.sent, []
        return [q for q in sent if not any(mark in q[:120] for mark in _DRIVER)]


@pytest.fixture
async def wire(database_url: str) -> AsyncIterator[Wire]:
    async with open_pool(database_url, max_size=1) as pool:
        counted = Wire(pool)
        async with pool.acquire() as con:
            con.add_query_logger(lambda record: counted.sent.append(record.query))
        counted.clear()
        yield counted


@pytest.fixture
def cold_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Availabilities the app cached (the app and the test share the process) are forgotten."""
    monkeypatch.setattr(slot_service, "_cache", slot_service._AvailabilityCache(16))


async def test_a_slots_page_takes_at_most_three_statements_whatever_the_range(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    settings: Settings,
    wire: Wire,
    cold_cache: None,
) -> None:
    doctor = await doctor_with_availability(
        client, db, settings, availability(every_day("08:00", "20:00", 15))
    )
    start = clock.now()
    counts = []
    for days in (28, 28, 1, 31):
        await list_available_slots(wire.pool, doctor.id, start, start + timedelta(days=days))
        counts.append(len(wire.clear()))
    # Cold: the snapshot and the availability; then the snapshot alone, the availability
    # coming from memory under the stamp the snapshot read.
    assert counts == [2, 1, 1, 1]


async def test_a_booking_takes_one_read_and_one_statement_and_a_loser_one_more_read(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    settings: Settings,
    wire: Wire,
    cold_cache: None,
) -> None:
    doctor = await doctor_with_availability(client, db, settings, availability())
    engines = cast(Engines, SimpleNamespace(settings=settings, pool=wire.pool))
    start = local(doctor, 2, "10:00")
    winner, loser = await make_patient(db, settings), await make_patient(db, settings)

    def body() -> BookingRequest:
        return BookingRequest.model_validate(
            {"doctor_id": str(doctor.id), "start": start.isoformat(), "visit_type": "in-person"}
        )

    def principal(patient: Patient) -> Principal:
        return Principal(patient.user.id, "patient", patient.user.session_id)

    await book_appointment(engines, principal(winner), body())
    sent = wire.clear()
    # The context read, the availability (cold cache), then the booking function: one
    # autocommit statement that also writes the request's audit entry (none here: no HTTP
    # request to record), no BEGIN / COMMIT round trips.
    assert len(sent) == 3
    assert "scheduling.book_slot_audited" in sent[-1]
    with pytest.raises(SlotTaken):
        await book_appointment(engines, principal(loser), body())
    # The context read says taken; the alternatives take one busy read (cache warm).
    assert len(wire.clear()) == 2


async def test_a_rush_for_one_slot_sends_one_booking_statement_from_one_node(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    settings: Settings,
    wire: Wire,
) -> None:
    """The patients rushing for a slot on one node wait for the booking already running there:
    one booking statement, the others refused without a context read or a booking attempt."""
    doctor = await doctor_with_availability(client, db, settings, availability())
    engines = cast(Engines, SimpleNamespace(settings=settings, pool=wire.pool))
    start = local(doctor, 2, "10:00")
    patients = [await make_patient(db, settings) for _ in range(10)]
    body = BookingRequest.model_validate(
        {"doctor_id": str(doctor.id), "start": start.isoformat(), "visit_type": "in-person"}
    )

    async def one(patient: Patient) -> str:
        who = Principal(patient.user.id, "patient", patient.user.session_id)
        try:
            await book_appointment(engines, who, body)
        except SlotTaken as exc:
            assert len(exc.extra["alternatives"]) == 5
            return "taken"
        return "booked"

    outcomes = await asyncio.gather(*(one(p) for p in patients))
    assert sorted(outcomes) == ["booked"] + ["taken"] * 9
    sent = wire.clear()
    assert sum("book_slot_audited" in q for q in sent) == 1
    assert sum("AS seen_before" in q for q in sent) == 1  # one context read
    assert await db.fetchval("SELECT count(*) FROM scheduling.appointments") == 1


async def test_a_patients_session_is_checked_in_the_bookings_first_read(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    settings: Settings,
    wire: Wire,
) -> None:
    """A Claim (the route's token, its session unchecked) costs no statement of its own: the
    booking is its context read and its booking statement; a revoked session is refused in
    that read (401), before anything is booked or said about the slot."""
    doctor = await doctor_with_availability(client, db, settings, availability())
    engines = cast(Engines, SimpleNamespace(settings=settings, pool=wire.pool))
    start = local(doctor, 2, "10:00")
    body = BookingRequest.model_validate(
        {"doctor_id": str(doctor.id), "start": start.isoformat(), "visit_type": "in-person"}
    )

    def claim(patient: Patient) -> Claim:
        who = Principal(patient.user.id, "patient", patient.user.session_id)
        return Claim(who, SimpleNamespace())

    revoked = await make_patient(db, settings)
    await db.execute(
        "UPDATE auth.sessions SET revoked_at = now() WHERE id = $1", revoked.user.session_id
    )
    refused = claim(revoked)
    with pytest.raises(Unauthenticated):
        await book_appointment(engines, refused, body)
    assert len(wire.clear()) == 1
    assert not hasattr(refused.state, "principal")  # the audit entry names nobody
    await book_appointment(engines, claim(await make_patient(db, settings)), body)
    sent = wire.clear()
    # The context read with the session check, the availability (cold cache), the booking.
    assert len(sent) == 3
    assert "auth.sessions" in sent[0] and "AS seen_before" in sent[0]
    assert not any("auth.sessions" in q for q in sent[1:])
    assert await db.fetchval("SELECT count(*) FROM scheduling.appointments") == 1


async def test_a_rushs_waiters_check_their_sessions_together_once_the_slot_is_decided(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    settings: Settings,
    wire: Wire,
) -> None:
    """Waiters with a Claim are checked after the booking they wait for, in one shared
    statement; a revoked one gets its 401, not the 409."""
    doctor = await doctor_with_availability(client, db, settings, availability())
    engines = cast(Engines, SimpleNamespace(settings=settings, pool=wire.pool))
    patients = [await make_patient(db, settings) for _ in range(10)]
    await db.execute(
        "UPDATE auth.sessions SET revoked_at = now() WHERE id = $1", patients[-1].user.session_id
    )
    body = BookingRequest.model_validate(
        {
            "doctor_id": str(doctor.id),
            "start": local(doctor, 2, "10:00").isoformat(),
            "visit_type": "in-person",
        }
    )

    async def one(patient: Patient) -> str:
        who = Claim(
            Principal(patient.user.id, "patient", patient.user.session_id), SimpleNamespace()
        )
        try:
            await book_appointment(engines, who, body)
        except SlotTaken:
            return "taken"
        except Unauthenticated:
            return "401"
        return "booked"

    outcomes = await asyncio.gather(*(one(p) for p in patients))
    assert outcomes[0] == "booked" and outcomes[-1] == "401"
    assert sorted(outcomes[1:-1]) == ["taken"] * 8
    sent = wire.clear()
    assert sum("book_slot_audited" in q for q in sent) == 1
    # The booking's read, then the eight waiters' checks in one group (two if the first group
    # left before the last waiter woke up).
    assert 2 <= sum("auth.sessions" in q for q in sent) <= 3
