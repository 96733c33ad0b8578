"""Private iCalendar feeds: RFC 5545 parsed back with `icalendar`, VTIMEZONE for the doctor's
zone, the change after a reschedule, revocation, and only the owner's appointments."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from icalendar import Calendar

from server import clock
from server.settings import Settings
from tests.factories import Doctor, Patient, make_appointment, make_doctor, make_patient, make_user
from tests.server.fhir.test_fhir import open_every_day

pytestmark = pytest.mark.engines

API = "/api/v1/calendar-feed"


async def _slots(client: httpx.AsyncClient, doctor: Doctor) -> list[dict[str, Any]]:
    start = clock.now() + timedelta(days=3)
    answer = await client.get(
        "/api/v1/appointments/slots/available",
        params={"doctor_id": str(doctor.id), "from": start.isoformat()},
    )
    assert answer.status_code == 200, answer.text
    slots: list[dict[str, Any]] = answer.json()["slots"]
    return slots


async def _feed(client: httpx.AsyncClient, url: str, status: int = 200) -> Calendar | None:
    answer = await client.get(url)
    assert answer.status_code == status, answer.text
    if status != 200:
        return None
    assert answer.headers["content-type"].startswith("text/calendar")
    return Calendar.from_ical(answer.content)


def _events(cal: Calendar) -> dict[str, Any]:
    return {str(e["uid"]).split("@")[0]: e for e in cal.walk("VEVENT")}


async def test_feeds_parse_carry_the_zone_and_change_after_a_reschedule(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings, time_zone="America/New_York", last_name="Hart")
    patient = await make_patient(db, settings, first_name="Lina", last_name="Roy")
    await open_every_day(client, doctor)
    slots = await _slots(client, doctor)
    booked = await client.post(
        "/api/v1/appointments",
        json={"doctor_id": str(doctor.id), "start": slots[0]["start"], "visit_type": "in-person"},
        headers=patient.user.headers,
    )
    assert booked.status_code == 201, booked.text
    appointment_id = booked.json()["id"]
    doctor_url = (await client.post(API, headers=doctor.user.headers)).json()["url"]
    patient_url = (await client.post(API, headers=patient.user.headers)).json()["url"]

    agenda = await _feed(client, doctor_url)
    mine = await _feed(client, patient_url)
    assert agenda is not None and mine is not None
    assert [str(z["tzid"]) for z in agenda.walk("VTIMEZONE")] == ["America/New_York"]
    event = _events(agenda)[appointment_id]
    assert str(event["summary"]) == "Lina Roy"
    assert event["dtstart"].dt.tzinfo.key == "America/New_York"  # type: ignore[union-attr]
    assert str(_events(mine)[appointment_id]["summary"]) == "Dr Claire Hart"
    before = event["dtstart"].dt

    moved = await client.post(
        f"/api/v1/appointments/{appointment_id}/reschedule",
        json={"start": slots[3]["start"]},
        headers=patient.user.headers,
    )
    assert moved.status_code == 200, moved.text

    after = await _feed(client, doctor_url)
    assert after is not None
    changed = _events(after)[appointment_id]
    assert changed["dtstart"].dt != before
    assert changed["dtstart"].dt.isoformat() == moved.json()["start"]
    assert int(changed["sequence"]) >= int(event["sequence"])
    audited = await db.fetchval(
        "SELECT count(*) FROM audit.logs WHERE action = 'calendar_feed.read' AND user_id = $1",
        doctor.user.id,
    )
    assert audited == 2


async def test_a_feed_shows_only_its_owner_and_dies_when_revoked_or_replaced(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    patient: Patient = await make_patient(db, settings)
    other: Patient = await make_patient(db, settings)
    start = clock.now().replace(microsecond=0) + timedelta(days=2)
    mine = await make_appointment(db, doctor, patient, start)
    theirs = await make_appointment(db, doctor, other, start + timedelta(hours=1))

    first = (await client.post(API, headers=patient.user.headers)).json()["url"]
    cal = await _feed(client, first)
    assert cal is not None and set(_events(cal)) == {str(mine)}
    del theirs

    second = (await client.post(API, headers=patient.user.headers)).json()["url"]
    await _feed(client, first, 404)
    await _feed(client, second)
    assert (await client.delete(API, headers=patient.user.headers)).status_code == 204
    await _feed(client, second, 404)
    state = await client.get(API, headers=patient.user.headers)
    assert state.json() == {"active": False, "created_at": None}
    admin = await make_user(db, settings, "admin")
    assert (await client.post(API, headers=admin.headers)).status_code == 403
    assert (await client.get("/calendar/not-a-real-token-at-all.ics")).status_code == 404
