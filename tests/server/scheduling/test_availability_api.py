"""GET / PUT / preview of a doctor's availability: atomic replace, validation, who may do it."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import httpx

from server.settings import Settings
from tests.factories import make_doctor, make_patient, make_user
from tests.server.scheduling.helpers import availability, counts, events_of, every_day, local


def _url(doctor_id: object) -> str:
    return f"/api/v1/doctors/{doctor_id}/availability"


async def test_put_replaces_everything_bumps_the_version_and_emits_an_event(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    body = availability(
        every_day("09:00", "12:00"),
        reasons=[{"name": "Consultation", "duration_minutes": 30, "visit_types": ["in-person"]}],
        exceptions=[{"kind": "time-off", "start_date": "2027-01-01", "end_date": "2027-01-03"}],
        buffer=10,
    )
    first = await client.put(_url(doctor.id), json=body, headers=doctor.user.headers)
    assert first.status_code == 200
    saved = first.json()
    assert saved["availability_version"] == 1 and len(saved["rules"]) == 7
    assert saved["settings"] == {
        "min_notice_minutes": 0,
        "max_horizon_days": 84,
        "buffer_minutes": 10,
    }
    reason_id = saved["reasons"][0]["id"]

    body["rules"] = every_day("14:00", "15:00", 20, "teleconsultation")[:2]
    body["reasons"] = [
        {
            "id": reason_id,
            "name": "Consultation longue",
            "duration_minutes": 60,
            "visit_types": ["in-person", "teleconsultation"],
        }
    ]
    body["exceptions"] = []
    second = (await client.put(_url(doctor.id), json=body, headers=doctor.user.headers)).json()

    assert second["availability_version"] == 2
    assert [(r["day_of_week"], r["start"], r["visit_type"]) for r in second["rules"]] == [
        (1, "14:00:00", "teleconsultation"),
        (2, "14:00:00", "teleconsultation"),
    ]
    assert second["reasons"][0]["id"] == reason_id
    assert second["reasons"][0]["name"] == "Consultation longue"
    assert second["exceptions"] == []
    public = (await client.get(_url(doctor.id))).json()
    assert public == second
    updates = await events_of(db, "doctor.availability.updated")
    assert [e["availability_version"] for e in updates] == [1, 2]
    assert updates[0]["subject"] == f"doctor:{doctor.id}"


def _bad(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**body, **changes}


async def test_invalid_availabilities_are_422_with_field_errors_and_change_nothing(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    good = availability(every_day("09:00", "12:00"))
    await client.put(_url(doctor.id), json=good, headers=doctor.user.headers)
    before = await counts(db)
    rule = every_day()[0]
    cases: dict[str, tuple[dict[str, Any], str]] = {
        "crossing midnight into the next day's rule": (
            _bad(good, rules=[{**rule, "start": "19:00", "end": "09:00"}, every_day()[1]]),
            "rules.1",
        ),
        "sunday night into monday's rule": (
            _bad(
                good, rules=[every_day()[0], {**every_day()[6], "start": "20:00", "end": "08:30"}]
            ),
            "rules.1",
        ),
        "no such time": (_bad(good, rules=[{**rule, "end": "24:30"}]), "rules.0.end"),
        "zero duration": (_bad(good, rules=[{**rule, "slot_minutes": 0}]), "rules.0.slot_minutes"),
        "uneven slots": (
            _bad(good, rules=[{**rule, "start": "09:00", "end": "10:10"}]),
            "rules.0.slot_minutes",
        ),
        "overlapping rules": (
            _bad(good, rules=[rule, {**rule, "start": "19:00", "end": "21:00"}]),
            "rules.1",
        ),
        "bad weekday": (_bad(good, rules=[{**rule, "day_of_week": 8}]), "rules.0.day_of_week"),
        "invalid date": (
            _bad(good, exceptions=[{"kind": "time-off", "start_date": "2027-02-30"}]),
            "exceptions.0.start_date",
        ),
        "exception ends first": (
            _bad(
                good,
                exceptions=[
                    {"kind": "time-off", "start_date": "2027-02-10", "end_date": "2027-02-01"}
                ],
            ),
            "exceptions.0.end_date",
        ),
        "extra hours incomplete": (
            _bad(good, exceptions=[{"kind": "extra-hours", "start_date": "2027-02-10"}]),
            "exceptions.0.start",
        ),
        "unknown reason id": (
            _bad(
                good,
                reasons=[
                    {
                        "id": str(uuid.uuid4()),
                        "name": "X",
                        "duration_minutes": 30,
                        "visit_types": ["in-person"],
                    }
                ],
            ),
            "reasons.0.id",
        ),
        "time with offset": (_bad(good, rules=[{**rule, "start": "09:00+02:00"}]), "rules.0.start"),
        "unknown field": (_bad(good, colour="blue"), "colour"),
    }
    for name, (body, field) in cases.items():
        response = await client.put(_url(doctor.id), json=body, headers=doctor.user.headers)
        assert response.status_code == 422, (name, response.text)
        fields = [e["field"] for e in response.json()["errors"]]
        assert field in fields, (name, fields)
    assert await counts(db) == before


async def test_only_the_doctor_or_an_admin_may_change_availability(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    other = await make_doctor(db, settings)
    patient = await make_patient(db, settings)
    admin = await make_user(db, settings, "admin")
    body = availability()
    assert (await client.put(_url(doctor.id), json=body)).status_code == 401
    for user in (other.user, patient.user):
        response = await client.put(_url(doctor.id), json=body, headers=user.headers)
        assert response.status_code == 403
    unknown = await client.put(_url(uuid.uuid4()), json=body, headers=other.user.headers)
    assert unknown.status_code == 403  # a stranger learns nothing about which ids exist
    assert (
        await client.put(_url(uuid.uuid4()), json=body, headers=admin.headers)
    ).status_code == 404
    assert (await client.put(_url(doctor.id), json=body, headers=admin.headers)).status_code == 200
    preview = await client.post(
        f"{_url(doctor.id)}/preview", json={"availability": body}, headers=patient.user.headers
    )
    assert preview.status_code == 403


async def test_an_unverified_doctors_availability_is_visible_to_that_doctor_only(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings, verified=False)
    patient = await make_patient(db, settings)
    assert (
        await client.put(_url(doctor.id), json=availability(), headers=doctor.user.headers)
    ).status_code == 200
    assert (await client.get(_url(doctor.id))).status_code == 404
    assert (await client.get(_url(doctor.id), headers=patient.user.headers)).status_code == 404
    assert (await client.get(_url(doctor.id), headers=doctor.user.headers)).status_code == 200
    assert (await client.get(_url("not-a-uuid"))).status_code == 422


async def test_preview_shows_the_proposed_slots_without_saving(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    await client.put(_url(doctor.id), json=availability(), headers=doctor.user.headers)
    before = await counts(db)
    start = local(doctor, 2, "00:00")
    proposal = availability(every_day("10:00", "11:00", 20, "teleconsultation"))
    response = await client.post(
        f"{_url(doctor.id)}/preview",
        json={
            "availability": proposal,
            "from": start.isoformat(),
            "to": (start + timedelta(days=1)).isoformat(),
        },
        headers=doctor.user.headers,
    )
    assert response.status_code == 200
    page = response.json()
    assert [(s["start"][11:16], s["visit_type"]) for s in page["slots"]] == [
        ("10:00", "teleconsultation"),
        ("10:20", "teleconsultation"),
        ("10:40", "teleconsultation"),
    ]
    assert await counts(db) == before
    invalid = await client.post(
        f"{_url(doctor.id)}/preview",
        json={"availability": availability([{**every_day()[0], "end": "08:10"}])},
        headers=doctor.user.headers,
    )
    assert invalid.status_code == 422
