"""GET /appointments/slots/available: contract shape, bounds, notice, horizon, DST, refusals."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest

from server import clock
from server.scheduling.service import list_available_slots, next_available_slot
from server.settings import Settings
from tests.factories import make_doctor, make_patient
from tests.server.scheduling.helpers import (
    SLOTS_URL,
    availability,
    booked,
    doctor_with_availability,
    every_day,
    local,
    on_day,
    put_availability,
    slot_starts,
    slots,
)


def _next_transitions(zone: ZoneInfo) -> list[date]:
    """The next dates (from tomorrow) on which the zone's UTC offset changes."""
    found: list[date] = []
    day = clock.now().astimezone(zone).date() + timedelta(days=1)
    while len(found) < 2:
        noon = datetime(day.year, day.month, day.day, 12, tzinfo=zone)
        if noon.utcoffset() != (noon - timedelta(days=1)).utcoffset():
            found.append(day)
        day += timedelta(days=1)
    return found


async def test_the_page_follows_the_contract_and_skips_booked_slots(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, pool: asyncpg.Pool
) -> None:
    doctor = await doctor_with_availability(
        client, db, settings, availability(every_day("09:00", "10:00"))
    )
    patient = await make_patient(db, settings)
    taken = local(doctor, 2, "09:30")
    await booked(client, patient, doctor, taken)
    start, end = local(doctor, 2, "00:00"), local(doctor, 3, "00:00")

    page = (await slots(client, doctor, start, end)).json()

    assert set(page) == {
        "doctor_id",
        "time_zone",
        "from",
        "to",
        "availability_version",
        "patient_cutoff_hours",
        "slots",
    }
    assert page["patient_cutoff_hours"] == settings.patient_cancel_cutoff_h
    assert page["time_zone"] == "Europe/Paris" and page["availability_version"] == 2
    assert page["slots"] == [
        {
            "start": local(doctor, 2, "09:00").isoformat(),
            "end": local(doctor, 2, "09:30").isoformat(),
            "visit_type": "in-person",
        }
    ]
    direct = await list_available_slots(pool, doctor.id, start, end)
    assert [s.start for s in direct.slots] == [local(doctor, 2, "09:00")]
    assert direct.from_ == start and direct.availability_version == 2


async def test_notice_and_horizon_bound_the_slots(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(
        client, db, settings, availability(notice=24 * 60, horizon=5)
    )
    now = clock.now()
    found = await slot_starts(client, doctor, now, now + timedelta(days=10))
    assert found and min(found) >= now + timedelta(hours=24)
    assert max(found) < now + timedelta(days=5)


async def test_type_and_reason_filter_the_slots(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    rules = every_day("09:00", "10:00") + every_day("18:00", "19:00", 20, "teleconsultation")
    reasons = [{"name": "Video check", "duration_minutes": 40, "visit_types": ["teleconsultation"]}]
    saved = await put_availability(client, doctor, availability(rules, reasons=reasons))
    start, end = local(doctor, 2, "00:00"), local(doctor, 3, "00:00")

    tele = await slot_starts(client, doctor, start, end, type="teleconsultation")
    video = (await slots(client, doctor, start, end, reason=saved["reasons"][0]["id"])).json()

    assert [t.strftime("%H:%M") for t in tele] == ["18:00", "18:20", "18:40"]
    assert [(s["start"][11:16], s["end"][11:16]) for s in video["slots"]] == [
        ("18:00", "18:40"),
        ("18:20", "19:00"),
    ]


async def test_dst_weeks_keep_the_local_grid_through_the_api(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    for zone_name in ("Europe/Paris", "America/New_York"):
        doctor = await make_doctor(db, settings, time_zone=zone_name)
        await put_availability(
            client, doctor, availability(every_day("09:00", "12:00"), horizon=400)
        )
        for change in _next_transitions(ZoneInfo(zone_name)):
            start = on_day(doctor, change - timedelta(days=3), "00:00")
            found = await slot_starts(client, doctor, start, start + timedelta(days=7))
            by_day: dict[date, list[str]] = {}
            for s in found:
                by_day.setdefault(s.date(), []).append(s.strftime("%H:%M"))
            assert len(by_day) == 7, (zone_name, change)
            assert all(
                times == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
                for times in by_day.values()
            )
            offsets = {s.utcoffset() for s in found}
            assert len(offsets) == 2  # the week really crosses the change


async def test_bad_queries_are_clear_4xx(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    unverified = await make_doctor(db, settings, verified=False)
    await put_availability(client, doctor)
    await put_availability(client, unverified)
    start = local(doctor, 1, "00:00")
    cases = {
        "unknown doctor": (404, {"doctor_id": str(uuid.uuid4())}),
        "unverified doctor": (404, {"doctor_id": str(unverified.id)}),
        "malformed doctor id": (422, {"doctor_id": "42"}),
        "end before start": (422, {"to": (start - timedelta(hours=1)).isoformat()}),
        "range over 31 days": (422, {"to": (start + timedelta(days=32)).isoformat()}),
        "malformed date": (422, {"from": "2026-13-01T00:00:00+00:00"}),
        "date without offset": (422, {"from": "2030-01-01T00:00:00"}),
        "unknown type": (422, {"type": "home-visit"}),
        "unknown reason": (422, {"reason": str(uuid.uuid4())}),
    }
    base = {
        "doctor_id": str(doctor.id),
        "from": start.isoformat(),
        "to": (start + timedelta(days=1)).isoformat(),
    }
    for name, (status, params) in cases.items():
        response = await client.get(SLOTS_URL, params={**base, **params})
        assert response.status_code == status, (name, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    missing = await client.get(SLOTS_URL)
    assert missing.status_code == 422


@pytest.mark.parametrize("visit_type", [None, "teleconsultation"])
async def test_next_available_slot_is_the_first_free_one(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    settings: Settings,
    pool: asyncpg.Pool,
    visit_type: str | None,
) -> None:
    doctor = await doctor_with_availability(
        client, db, settings, availability(every_day("09:00", "10:00"))
    )
    first = await next_available_slot(pool, doctor.id, visit_type)
    if visit_type == "teleconsultation":
        assert first is None
    else:
        assert first is not None and first.strftime("%M") in ("00", "30")
        assert first > clock.now()
    assert await next_available_slot(pool, uuid.uuid4()) is None


@pytest.mark.parametrize(
    "zone_name", ["Pacific/Chatham", "Asia/Kathmandu", "America/St_Johns", "Australia/Lord_Howe"]
)
async def test_the_http_page_is_the_models_in_odd_zones_across_their_changes(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    settings: Settings,
    pool: asyncpg.Pool,
    zone_name: str,
) -> None:
    """The route's page, put together from remembered days' JSON, says what
    list_available_slots says (GraphQL's path), in zones a quarter or half hour off and across
    their offset changes (Lord Howe moves by 30 minutes), per reason length, with a buffer
    around a booking, for one day and for 31, and after the hours change in between."""
    doctor = await make_doctor(db, settings, time_zone=zone_name)
    rules = every_day("00:00", "04:00", 15) + every_day("22:00", "24:00", 20, "teleconsultation")
    reasons = [{"name": "Long", "duration_minutes": 45, "visit_types": ["in-person"]}]
    saved = await put_availability(
        client, doctor, availability(rules, horizon=400, buffer=10, reasons=reasons)
    )
    await booked(client, await make_patient(db, settings), doctor, local(doctor, 2, "01:00"))
    zone = ZoneInfo(zone_name)
    starts = [local(doctor, 1, "00:00")]
    if zone_name != "Asia/Kathmandu":  # no offset change there
        starts += [on_day(doctor, change - timedelta(days=1), "00:00") for change in
                   _next_transitions(zone)]  # fmt: skip
    reason = saved["reasons"][0]["id"]

    async def same(start: datetime, days: int, **params: str) -> None:
        end = (start.astimezone(UTC) + timedelta(days=days)).astimezone(zone)  # elapsed days
        response = await slots(client, doctor, start, end, **params)
        assert response.status_code == 200, response.text
        model = await list_available_slots(
            pool, doctor.id, start, end, params.get("type"),
            uuid.UUID(params["reason"]) if "reason" in params else None,
        )  # fmt: skip
        expected = model.model_dump(mode="json", by_alias=True)
        expected["patient_cutoff_hours"] = settings.patient_cancel_cutoff_h
        assert response.json() == expected, (start, days, params)

    for start in starts:
        for days in (1, 31):
            await same(start, days)
            await same(start, days, type="teleconsultation")
            await same(start, days, reason=reason)
    await put_availability(client, doctor, availability(every_day("09:00", "10:00"), horizon=400))
    await same(starts[0], 1)
    assert [s.strftime("%H:%M") for s in await slot_starts(
        client, doctor, starts[0], starts[0] + timedelta(days=1)
    )] == ["09:00", "09:30"]  # fmt: skip
