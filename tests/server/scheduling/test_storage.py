"""The database itself refuses double booking: exclusion constraints, mapped to domain errors;
scheduling.book_slot_audited books under the doctor's version lock in one statement, and the
booking's read (booking_context) answers from the patient's history with that doctor."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from server import clock
from server.settings import Settings
from storage.errors import ConstraintViolation, StaleRead
from storage.pool import open_pool
from storage.scheduling import appointments as store
from storage.scheduling.booking import book_slot, booking_context
from tests.factories import make_doctor, make_patient

START = datetime(2031, 1, 6, 9, 0, tzinfo=UTC)


def _new(
    doctor_id: uuid.UUID, patient_id: uuid.UUID, start: datetime, status: str = "scheduled"
) -> store.NewAppointment:
    return store.NewAppointment(
        id=uuid.uuid4(),
        doctor_id=doctor_id,
        patient_id=patient_id,
        start=start,
        end=start + timedelta(minutes=30),
        visit_type="in-person",
        status=status,
        reason_id=None,
        location="",
        notes=None,
        fee=0,
        currency="EUR",
        hold_expires_at=start if status == "held" else None,
        created_by=None,
        created_at=clock.now(),
    )


async def _insert(db: asyncpg.Connection, new: store.NewAppointment) -> None:
    await db.execute(
        """INSERT INTO scheduling.appointments
               (id, doctor_id, patient_id, period, visit_type, status, fee, currency,
                hold_expires_at)
           VALUES ($1, $2, $3, tstzrange($4, $5), $6, $7, 0, 'EUR', $8)""",
        new.id, new.doctor_id, new.patient_id, new.start, new.end, new.visit_type, new.status,
        new.hold_expires_at,
    )  # fmt: skip


async def test_overlapping_active_appointments_are_refused_by_the_database(
    db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, other_doctor = await make_doctor(db, settings), await make_doctor(db, settings)
    patient, other_patient = await make_patient(db, settings), await make_patient(db, settings)
    async with db.transaction():
        await _insert(db, _new(doctor.id, patient.id, START, "held"))
        with pytest.raises(asyncpg.ExclusionViolationError) as doctor_busy:
            async with db.transaction():  # a savepoint: the failed insert aborts only it
                await _insert(db, _new(doctor.id, other_patient.id, START + timedelta(minutes=15)))
        assert doctor_busy.value.constraint_name == store.DOCTOR_OVERLAP
        with pytest.raises(asyncpg.ExclusionViolationError) as patient_busy:
            async with db.transaction():
                await _insert(db, _new(other_doctor.id, patient.id, START))
        assert patient_busy.value.constraint_name == store.PATIENT_OVERLAP
        # Back to back is fine, and so is overlapping a finished (inactive) appointment.
        await _insert(db, _new(doctor.id, other_patient.id, START + timedelta(minutes=30)))
        await _insert(db, _new(doctor.id, other_patient.id, START, "cancelled"))
    assert await db.fetchval("SELECT count(*) FROM scheduling.appointments") == 3


async def _stamp(db: asyncpg.Connection, doctor_id: uuid.UUID) -> uuid.UUID | None:
    stamp: uuid.UUID | None = await db.fetchval(
        "SELECT rules_stamp FROM scheduling.availability_versions WHERE doctor_id = $1", doctor_id
    )
    return stamp


def _event(doctor_id: uuid.UUID, n: int) -> dict[str, object]:
    return {
        "id": str(uuid.uuid4()),
        "type": "slot.booked",
        "occurred_at": START.isoformat(),
        "actor": None,
        "subject": f"doctor:{doctor_id}",
        "data": {"n": n, "availability_version": 0},
        "version": 1,
    }


async def test_book_slot_books_under_the_version_and_writes_its_events_in_order(
    db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, patient = await make_doctor(db, settings), await make_patient(db, settings)
    before = await db.fetchval(
        "SELECT coalesce(max(version), 0) FROM scheduling.availability_versions"
        " WHERE doctor_id = $1",
        doctor.id,
    )
    new = _new(doctor.id, patient.id, START)
    events = [_event(doctor.id, n) for n in range(2)]
    row = await book_slot(db, new, await _stamp(db, doctor.id), timedelta(0), events)
    assert (row["id"], row["start_at"], row["end_at"]) == (new.id, new.start, new.end)
    assert row["availability_version"] == before + 1
    stored = await db.fetch("SELECT data FROM bus.outbox ORDER BY seq")
    assert [r["data"] for r in stored][-2:] == [
        {"n": 0, "availability_version": before + 1},
        {"n": 1, "availability_version": before + 1},
    ]


async def test_book_slot_refuses_taken_slots_buffers_busy_patients_and_stale_hours(
    db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, other_doctor = await make_doctor(db, settings), await make_doctor(db, settings)
    patient, other_patient = await make_patient(db, settings), await make_patient(db, settings)
    await book_slot(db, _new(doctor.id, patient.id, START), await _stamp(db, doctor.id),
                    timedelta(0), [])  # fmt: skip
    stamp = await _stamp(db, doctor.id)
    next_door = _new(doctor.id, other_patient.id, START + timedelta(minutes=30))
    with pytest.raises(ConstraintViolation, match=store.DOCTOR_OVERLAP):
        await book_slot(db, _new(doctor.id, other_patient.id, START), stamp, timedelta(0), [])
    with pytest.raises(ConstraintViolation, match=store.DOCTOR_OVERLAP):  # inside the buffer
        await book_slot(db, next_door, stamp, timedelta(minutes=5), [])
    with pytest.raises(ConstraintViolation, match=store.PATIENT_OVERLAP):
        await book_slot(db, _new(other_doctor.id, patient.id, START),
                        await _stamp(db, other_doctor.id), timedelta(0), [])  # fmt: skip
    # The doctor changes the hours: a booking checked against the old ones must read them again.
    await db.execute(
        """INSERT INTO scheduling.doctor_settings (doctor_id, min_notice_minutes, max_horizon_days)
           VALUES ($1, 0, 30)""",
        doctor.id,
    )
    with pytest.raises(StaleRead):
        await book_slot(db, next_door, stamp, timedelta(0), [])
    await book_slot(db, next_door, await _stamp(db, doctor.id), timedelta(0), [])
    count = await db.fetchval(
        "SELECT count(*) FROM scheduling.appointments WHERE doctor_id = $1", doctor.id
    )
    assert count == 2


async def test_a_slot_being_booked_is_refused_at_once_and_free_again_if_that_fails(
    db: asyncpg.Connection, database_url: str, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    first, second = await make_patient(db, settings), await make_patient(db, settings)
    stamp = await _stamp(db, doctor.id)
    async with open_pool(database_url, max_size=1) as pool, pool.acquire() as other:
        holder = other.transaction()
        await holder.start()  # the first booking is under way: its transaction is open
        await book_slot(other, _new(doctor.id, first.id, START), stamp, timedelta(0), [])
        # Refused without waiting for the doctor's lock the first holds (a wait would hang).
        with pytest.raises(ConstraintViolation, match=store.DOCTOR_OVERLAP):
            await book_slot(db, _new(doctor.id, second.id, START), stamp, timedelta(0), [])
        await holder.rollback()  # the first failed after all: the slot is free
    await book_slot(db, _new(doctor.id, second.id, START), await _stamp(db, doctor.id),
                    timedelta(0), [])  # fmt: skip


async def test_the_booking_read_sees_the_patients_history_with_this_doctor_only(
    db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, other_doctor = await make_doctor(db, settings), await make_doctor(db, settings)
    patient, other_patient = await make_patient(db, settings), await make_patient(db, settings)
    await db.execute(
        """INSERT INTO waitlist.practice_settings (doctor_id, prepay_no_show_threshold)
           VALUES ($1, 2)""",
        doctor.id,
    )

    async def history(patient_id: uuid.UUID) -> tuple[bool, bool]:
        row = await booking_context(db, doctor.id, START, patient_user_id=None,
                                    patient_id=patient_id)  # fmt: skip
        return row["seen_before"], row["prepay_required"]

    async def visit(doctor_id: uuid.UUID, patient_id: uuid.UUID, days: int, status: str) -> None:
        new = _new(doctor_id, patient_id, START - timedelta(days=days))
        await _insert(db, new)
        await db.execute(
            "UPDATE scheduling.appointments SET status = $2 WHERE id = $1", new.id, status
        )

    assert await history(patient.id) == (False, False)
    # Visits that do not count: scheduled, with another doctor, another patient's.
    await _insert(db, _new(doctor.id, patient.id, START - timedelta(days=9)))
    await visit(other_doctor.id, patient.id, 1, "completed")
    await visit(other_doctor.id, patient.id, 2, "no-show")
    await visit(other_doctor.id, patient.id, 3, "no-show")
    await visit(doctor.id, other_patient.id, 4, "completed")
    assert await history(patient.id) == (False, False)
    await visit(doctor.id, patient.id, 5, "completed")
    await visit(doctor.id, patient.id, 6, "no-show")
    assert await history(patient.id) == (True, False)
    await visit(doctor.id, patient.id, 7, "no-show")  # the practice's threshold: two
    assert await history(patient.id) == (True, True)
    assert await history(other_patient.id) == (True, False)


async def test_overlapping_bookings_racing_through_buffers_leave_exactly_compatible_winners(
    db: asyncpg.Connection, database_url: str, settings: Settings
) -> None:
    """Bookings every 10 minutes (30-minute visits, 10-minute buffer), two per start, all at
    once: different starts take different slot locks, so only the doctor's version lock and the
    INSERT's own free check keep buffers apart. The winners keep their buffers, and every loser
    was refused as taken by a winner it conflicts with."""
    doctor = await make_doctor(db, settings)
    buffer = timedelta(minutes=10)
    earlier = _new(doctor.id, (await make_patient(db, settings)).id, START - timedelta(days=1))
    await book_slot(db, earlier, None, buffer, [])  # the doctor's version row exists now
    stamp = await _stamp(db, doctor.id)
    starts = [START + timedelta(minutes=10 * i) for i in range(12)]
    tries = [
        _new(doctor.id, (await make_patient(db, settings)).id, start)
        for start in starts
        for _ in range(2)
    ]
    async with open_pool(database_url, max_size=len(tries)) as pool:

        async def attempt(new: store.NewAppointment) -> bool:
            async with pool.acquire() as con:
                try:
                    await book_slot(con, new, stamp, buffer, [])
                except ConstraintViolation as refused:
                    assert refused.constraint == store.DOCTOR_OVERLAP
                    return False
                return True

        won = await asyncio.gather(*(attempt(new) for new in tries))
    winners = [new for new, ok in zip(tries, won, strict=True) if ok]

    def clash(a: store.NewAppointment, b: store.NewAppointment) -> bool:
        return a.start - buffer < b.end and b.start < a.end + buffer

    assert winners
    assert not [(a.start, b.start) for a in winners for b in winners if a is not b and clash(a, b)]
    losers = [new for new, ok in zip(tries, won, strict=True) if not ok]
    assert all(any(clash(loser, w) for w in winners) for loser in losers)
    stored = await db.fetchval(
        "SELECT count(*) FROM scheduling.appointments WHERE doctor_id = $1", doctor.id
    )
    assert stored == len(winners) + 1
