"""Reminders: due at the right instants (DST included), claimed once, skipped when useless."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
import time_machine

from server import clock
from server.notifications.reminders import due_time, send_due_reminders
from server.settings import Settings
from storage.notify import reminders as store
from tests.factories import make_doctor, make_patient
from tests.server.notifications.helpers import booking, eventually, insert_appointment, message_rows
from tests.server.scheduling.helpers import local

PARIS = "Europe/Paris"


@pytest.mark.parametrize(
    ("start", "offset", "due"),
    [
        # Sunday 28 March 2027, 10:00 CEST (clocks went forward at 02:00): the day-before
        # reminder comes at 10:00 CET on Saturday, 25 elapsed hours earlier, not 24.
        (datetime(2027, 3, 28, 8, 0, tzinfo=UTC), 1440, datetime(2027, 3, 27, 9, 0, tzinfo=UTC)),
        # Sunday 31 October 2027, 10:00 CET (clocks went back): 23 elapsed hours.
        (datetime(2027, 10, 31, 9, 0, tzinfo=UTC), 1440, datetime(2027, 10, 30, 8, 0, tzinfo=UTC)),
        # The hour-before reminder counts elapsed time across the change: 03:30 CEST is 00:30Z.
        (datetime(2027, 3, 28, 1, 30, tzinfo=UTC), 60, datetime(2027, 3, 28, 0, 30, tzinfo=UTC)),
        # Two days before a winter 09:00 across the autumn change: same wall clock.
        (datetime(2027, 11, 1, 8, 0, tzinfo=UTC), 2880, datetime(2027, 10, 30, 7, 0, tzinfo=UTC)),
    ],
)
def test_due_instants_follow_the_practice_wall_clock_across_dst(
    start: datetime, offset: int, due: datetime
) -> None:
    assert due_time(start, PARIS, offset) == due


async def _reminders(db: asyncpg.Connection, appointment_id: str) -> list[asyncpg.Record]:
    return await store.of_appointment(db, uuid.UUID(appointment_id))


async def test_reminders_fire_at_their_instant_under_the_clock(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    made = await booking(client, db, settings)
    doctor, appointment, start = made.doctor, made.appointment, made.start
    planned = await eventually(lambda: _reminders(db, appointment["id"]), lambda r: len(r) == 2)
    by_offset = {r["offset_minutes"]: r for r in planned}
    assert by_offset[1440]["due_at"] == due_time(start, doctor.time_zone, 1440)
    assert by_offset[60]["due_at"] == start - timedelta(hours=1)

    day_before = by_offset[1440]["due_at"]
    with time_machine.travel(day_before - timedelta(minutes=1), tick=True):
        await asyncio.sleep(0.3)  # several polls of the app's reminder worker
        assert {r["status"] for r in await _reminders(db, appointment["id"])} == {"pending"}
    with time_machine.travel(day_before + timedelta(seconds=1), tick=True):
        rows = await eventually(
            lambda: _reminders(db, appointment["id"]),
            lambda r: [x["status"] for x in r] == ["sent", "pending"],
        )
        assert rows[0]["done_at"] >= day_before
    sent = await message_rows(db, kind="appointment.reminder", channel="email")
    assert len(sent) == 1 and "Reminder" in sent[0]["subject"]
    sms = await message_rows(db, kind="appointment.reminder", channel="sms")
    assert len(sms) == 1 and f"Reply C {sms[0]['reference']} to confirm" in sms[0]["body"]


async def test_a_cancelled_appointment_sends_no_reminder(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    made = await booking(client, db, settings)
    doctor, appointment, start = made.doctor, made.appointment, made.start
    await eventually(lambda: _reminders(db, appointment["id"]), lambda r: len(r) == 2)
    response = await client.post(
        f"/api/v1/appointments/{appointment['id']}/cancel", json={}, headers=doctor.user.headers
    )
    assert response.status_code == 200
    await eventually(
        lambda: _reminders(db, appointment["id"]),
        lambda r: {x["status"] for x in r} == {"cancelled"},
    )
    with time_machine.travel(start - timedelta(minutes=30), tick=True):
        await asyncio.sleep(0.3)
    assert await message_rows(db, kind="appointment.reminder") == []


async def test_reschedule_moves_the_reminders(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    made = await booking(client, db, settings)
    doctor, patient, appointment = made.doctor, made.patient, made.appointment
    await eventually(lambda: _reminders(db, appointment["id"]), lambda r: len(r) == 2)
    moved_to = local(doctor, 6, "15:00")
    response = await client.post(
        f"/api/v1/appointments/{appointment['id']}/reschedule",
        json={"start": moved_to.isoformat()},
        headers=patient.user.headers,
    )
    assert response.status_code == 200, response.text
    rows = await eventually(
        lambda: _reminders(db, appointment["id"]),
        lambda r: all(x["starts_at"] == moved_to for x in r),
    )
    assert [x["due_at"] for x in rows] == [
        due_time(moved_to, doctor.time_zone, 1440),
        moved_to - timedelta(hours=1),
    ]
    # The patient moved it: the doctor is told (and the patient's calendar follows).
    told = await eventually(
        lambda: message_rows(db, kind="appointment.rescheduled", channel="email"),
        lambda found: len(found) == 2,
    )
    assert {r["recipient"] for r in told} == {doctor.user.email, made.patient.user.email}


async def test_after_downtime_only_the_useful_reminder_goes(
    pool: asyncpg.Pool, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    patient = await make_patient(db, settings)
    now = clock.now()
    soon = await insert_appointment(db, doctor, patient, now + timedelta(minutes=40))
    gone = await insert_appointment(db, doctor, patient, now + timedelta(hours=5))
    async with pool.acquire() as con, con.transaction():
        # Both of `soon`'s reminders fell due while the node was down: the 1 h one is closer.
        await store.schedule(
            con,
            soon,
            now + timedelta(minutes=40),
            [(1440, now - timedelta(hours=23)), (60, now - timedelta(minutes=20))],
        )
        # 19 h late for a 24 h reminder: more than half its offset, no longer useful.
        await store.schedule(
            con, gone, now + timedelta(hours=5), [(1440, now - timedelta(hours=19))]
        )
    async with pool.acquire() as con:
        assert await send_due_reminders(con, settings, 100) == 3
    outcome = {
        (r["appointment_id"], r["offset_minutes"]): (r["status"], r["note"])
        for r in await db.fetch("SELECT * FROM notify.reminders")
    }
    assert outcome == {
        (soon, 1440): ("skipped", "a closer reminder is due"),
        (soon, 60): ("sent", None),
        (gone, 1440): ("skipped", "missed: too late"),
    }
    assert len(await message_rows(db, kind="appointment.reminder", channel="email")) == 1


async def test_two_workers_racing_send_each_reminder_once(
    pool: asyncpg.Pool, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    now = clock.now()
    appointments = []
    for i in range(60):
        patient = await make_patient(db, settings)
        start = now + timedelta(minutes=50, seconds=10 * i)  # one doctor: 10 s visits
        appointments.append(
            await insert_appointment(db, doctor, patient, start, length=timedelta(seconds=10))
        )
        await store.schedule(db, appointments[-1], start, [(60, start - timedelta(hours=1))])

    async def worker() -> int:
        handled = 0
        async with pool.acquire() as con:
            while n := await send_due_reminders(con, settings, 7):
                handled += n
        return handled

    counts = await asyncio.gather(worker(), worker())
    assert sum(counts) == 60 and all(counts)  # both took part, none twice
    emails = await message_rows(db, kind="appointment.reminder", channel="email")
    assert sorted(r["appointment_id"] for r in emails) == sorted(appointments)
