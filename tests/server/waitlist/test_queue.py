"""Running late and queue position: the declared delay, the overrun the clock shows, and the
estimate changing as the visit in progress completes."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx

from server import clock
from server.settings import Settings
from server.waitlist.queue import estimate
from tests.factories import make_patient
from tests.server.patients.test_relatives import add
from tests.server.scheduling.helpers import (
    booked,
    doctor_with_availability,
    events_of,
    local,
    move_to,
)
from tests.server.waitlist.helpers import WAITLIST, morning_zone


def _row(start: datetime, minutes: int = 30) -> dict[str, Any]:
    return {"id": uuid.uuid4(), "start_at": start, "end_at": start + timedelta(minutes=minutes)}


def test_the_overrun_of_the_visit_in_progress_delays_the_later_ones_until_it_completes() -> None:
    now = clock.now()
    in_progress, next_one, later = (
        _row(now - timedelta(minutes=40)),
        _row(now),
        _row(now + timedelta(hours=1)),
    )
    day = [in_progress, next_one, later]
    found = estimate(day, later["id"], later["start_at"], now, declared=0)
    assert (found.position, found.inferred_minutes) == (3, 10)
    assert found.expected_start == later["start_at"] + timedelta(minutes=10)
    # Declared 20 min wins over 10 inferred.
    declared = estimate(day, later["id"], later["start_at"], now, declared=20)
    assert declared.expected_start == later["start_at"] + timedelta(minutes=20)
    # Completed: it leaves the day's booked visits, and the overrun with it.
    done = estimate(day[1:], later["id"], later["start_at"], now, declared=0)
    assert (done.position, done.inferred_minutes, done.expected_start) == (2, 0, later["start_at"])


async def test_declared_delay_and_position_on_the_appointment(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    # A doctor whose local time is about 08:00: both visits fit later today, whatever the hour.
    now = clock.now()
    doctor = await doctor_with_availability(client, db, settings, time_zone=morning_zone(now))
    first, second = [await make_patient(db, settings) for _ in range(2)]
    earlier = await booked(client, first, doctor, local(doctor, 3, "10:00"))
    target = await booked(client, second, doctor, local(doctor, 3, "11:00"))
    zone = ZoneInfo(doctor.time_zone)
    midnight = datetime.combine(
        now.astimezone(zone).date() + timedelta(days=1), datetime.min.time(), zone
    )
    await move_to(db, earlier["id"], now + (midnight - now) / 4)
    await move_to(db, target["id"], now + (midnight - now) / 2)
    url = f"{WAITLIST}/appointments/{target['id']}/queue"

    before = (await client.get(url, headers=second.user.headers)).json()
    assert before["position"] == 2 and before["delay_minutes"] == 0

    late = await client.put(
        f"{WAITLIST}/doctors/{doctor.id}/running-late",
        json={"minutes": 20},
        headers=doctor.user.headers,
    )
    assert late.status_code == 200, late.text
    # Both patients of the day hear it live (a `notification` of kind queue.updated).
    (announced,) = await events_of(db, "queue.updated")
    assert set(announced["patient_user_ids"]) == {str(first.user.id), str(second.user.id)}
    after = (await client.get(url, headers=second.user.headers)).json()
    assert after["declared_minutes"] == 20
    start = datetime.fromisoformat(after["start"])
    assert datetime.fromisoformat(after["expected_start"]) == start + timedelta(minutes=20)

    stranger = await client.get(url, headers=first.user.headers)
    assert stranger.status_code == 404
    not_theirs = await client.put(
        f"{WAITLIST}/doctors/{doctor.id}/running-late",
        json={"minutes": 5},
        headers=second.user.headers,
    )
    assert not_theirs.status_code == 404
    bad = await client.put(
        f"{WAITLIST}/doctors/{doctor.id}/running-late",
        json={"minutes": -3},
        headers=doctor.user.headers,
    )
    assert bad.status_code == 422


async def test_a_relatives_visit_on_the_day_reaches_the_proxy_and_breaks_nothing(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """A relative has no login: the day's queue.updated goes to their proxy. Found by hand:
    one relative's visit beside another patient's made the running-late PUT a 500 (sorting a
    null user id) and the waitlist consumer fail on every cancellation of that day."""
    doctor = await doctor_with_availability(client, db, settings)
    parent, other = [await make_patient(db, settings) for _ in range(2)]
    lea = await add(client, parent)
    await booked(client, parent, doctor, local(doctor, 3, "10:00"), patient_id=lea["id"])
    theirs = await booked(client, other, doctor, local(doctor, 3, "11:00"))
    # Both today in the doctor's zone, whatever the hour (past visits of the day count too):
    # early in the day after local noon, late in it before.
    now = clock.now()
    zone = ZoneInfo(doctor.time_zone)
    today = now.astimezone(zone).date()
    if now.astimezone(zone).hour >= 12:
        first = datetime.combine(today, datetime.min.time(), zone) + timedelta(hours=1)
    else:
        first = datetime.combine(today + timedelta(days=1), datetime.min.time(), zone)
        first -= timedelta(hours=3)
    children = await db.fetch(
        "SELECT id FROM scheduling.appointments WHERE patient_id = $1::uuid", lea["id"]
    )
    await move_to(db, str(children[0]["id"]), first)
    await move_to(db, theirs["id"], first + timedelta(hours=1))

    late = await client.put(
        f"{WAITLIST}/doctors/{doctor.id}/running-late",
        json={"minutes": 10},
        headers=doctor.user.headers,
    )
    assert late.status_code == 200, late.text
    (announced,) = await events_of(db, "queue.updated")
    assert set(announced["patient_user_ids"]) == {str(parent.user.id), str(other.user.id)}

    # The parent's account erased, and so Léa (nobody else manages her; removing her alone is
    # refused while her visit is to come): her visit stays, nobody to tell.
    gone = await client.delete(f"/api/v1/patients/{parent.id}", headers=parent.user.headers)
    assert gone.status_code == 204, gone.text
    again = await client.put(
        f"{WAITLIST}/doctors/{doctor.id}/running-late",
        json={"minutes": 15},
        headers=doctor.user.headers,
    )
    assert again.status_code == 200, again.text
    latest = (await events_of(db, "queue.updated"))[-1]
    assert latest["patient_user_ids"] == [str(other.user.id)]
