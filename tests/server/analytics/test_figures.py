"""Analytics figures checked against a small hand-made data set (computed by hand below)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from server import clock
from server.analytics.rollups import rebuild
from server.settings import Settings
from tests.factories import make_appointment, make_doctor, make_patient, make_user

pytestmark = pytest.mark.engines

API = "/api/v1/analytics"


async def _get(client: httpx.AsyncClient, path: str, headers: dict[str, str], **params: Any) -> Any:
    answer = await client.get(f"{API}/{path}", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_figures_match_the_hand_made_data_set(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    day0 = clock.now().astimezone(UTC).date() - timedelta(days=10)

    def at(days: int, hour: int) -> datetime:
        return datetime.combine(day0 + timedelta(days=days), time(hour), UTC)

    a = await make_doctor(db, settings, specializations=["cardiology"], city="Paris")
    b = await make_doctor(db, settings, specializations=["dermatology", "cardiology"], city="Lyon")
    p = [await make_patient(db, settings) for _ in range(5)]
    # (doctor, patient, visit, booked, status)  lead time in hours
    rows = [
        (a, p[0], at(0, 10), at(-2, 10), "completed"),  # 48
        (a, p[1], at(1, 10), at(1, 4), "no-show"),  # 6
        (a, p[2], at(2, 10), at(0, 10), "cancelled"),  # (cancelled: not a visit)
        (b, p[3], at(3, 10), at(1, 10), "completed"),  # 48
        (b, p[4], at(4, 10), at(1, 12), "scheduled"),  # 70 (3 days less 2 hours)
    ]
    for doctor, patient, visit, booked, status in rows:
        await make_appointment(db, doctor, patient, visit, status=status, created_at=booked)
    # Rows written directly (no event), as a bulk load would: `markini analytics rebuild` rolls
    # them up; the past days' platform figures below come from the rollups.
    await rebuild(db)
    admin = await make_user(db, settings, "admin")
    span = {
        "from": (day0 - timedelta(days=2)).isoformat(),
        "to": (day0 + timedelta(days=4)).isoformat(),
    }

    bookings = await _get(client, "bookings-per-day", admin.headers, **span)
    assert [d["count"] for d in bookings["days"]] == [1, 0, 1, 3, 0, 0, 0]
    outcomes = await _get(client, "outcomes", admin.headers, **span)
    assert (outcomes["appointments"], outcomes["cancelled"], outcomes["past"]) == (5, 1, 4)
    assert (outcomes["cancellation_rate"], outcomes["no_show_rate"]) == (0.2, 0.25)
    busiest = await _get(client, "busiest", admin.headers, **span)
    assert busiest["specialties"] == [
        {"key": "cardiology", "appointments": 4},
        {"key": "dermatology", "appointments": 2},
    ]
    assert busiest["cities"] == [
        {"key": "Lyon", "appointments": 2},
        {"key": "Paris", "appointments": 2},
    ]
    lead = await _get(client, "lead-time", admin.headers, **span)
    assert (lead["visits"], lead["mean_hours"], lead["median_hours"], lead["p90_hours"]) == (
        4,
        43.0,  # (48 + 6 + 48 + 70) / 4
        48.0,  # sorted 6, 48, 48, 70
        63.4,  # rank 0.9 * 3 = 2.7: 48 + 0.7 * (70 - 48)
    )
    revenue = await _get(client, "revenue-per-day", admin.headers, **span)
    assert revenue == {**revenue, "days": [], "source": "none"}  # no payment taken

    # The doctor's own dashboard: only their appointments, whatever they ask.
    own = await _get(client, "bookings-per-day", a.user.headers, **span)
    assert [d["count"] for d in own["days"]] == [1, 0, 1, 1, 0, 0, 0]
    assert own["scope"]["doctor_id"] == str(a.id)
    own_outcomes = await _get(client, "outcomes", a.user.headers, **span)
    assert (own_outcomes["appointments"], own_outcomes["no_show_rate"]) == (3, 0.5)
    one = await _get(client, "lead-time", admin.headers, **span, doctor_id=str(b.id))
    assert (one["visits"], one["mean_hours"]) == (2, 59.0)  # (48 + 70) / 2


async def test_who_may_see_what_and_bad_ranges(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    a, b = await make_doctor(db, settings), await make_doctor(db, settings)
    patient = await make_patient(db, settings)
    admin = await make_user(db, settings, "admin")
    for path in (
        "bookings-per-day",
        "outcomes",
        "revenue-per-day",
        "busiest",
        "lead-time",
        "connected",
    ):
        assert (await client.get(f"{API}/{path}")).status_code == 401
        refused = await client.get(f"{API}/{path}", headers=patient.user.headers)
        assert refused.status_code == 403, path
    other = await client.get(
        f"{API}/outcomes", params={"doctor_id": str(b.id)}, headers=a.user.headers
    )
    assert other.status_code == 403
    assert (await client.get(f"{API}/busiest", headers=a.user.headers)).status_code == 403
    assert (await client.get(f"{API}/connected", headers=a.user.headers)).status_code == 403
    for bad in (
        {"tz": "Mars/Olympus"},
        {"from": "2026-01-10", "to": "2026-01-01"},
        {"from": "2024-01-01", "to": "2026-01-01"},
        {"from": "yesterday"},
    ):
        answer = await client.get(f"{API}/outcomes", params=bad, headers=admin.headers)
        assert answer.status_code == 422, bad
    connected = await client.get(f"{API}/connected", headers=admin.headers)
    assert connected.status_code == 200 and connected.json()["total"] >= 0


async def test_an_unknown_doctor_is_a_404_not_a_page_of_zeros(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """Found by testers: an admin's `doctor_id` of no doctor answered 200 with zeros."""
    known = await make_doctor(db, settings)
    admin = await make_user(db, settings, "admin")
    for path in ("bookings-per-day", "outcomes", "revenue-per-day", "lead-time"):
        answer = await client.get(
            f"{API}/{path}", params={"doctor_id": str(uuid.uuid4())}, headers=admin.headers
        )
        assert answer.status_code == 404, (path, answer.text)
        assert answer.json()["code"] == "no-such-doctor"
    await _get(client, "outcomes", admin.headers, doctor_id=str(known.id))


async def test_zone_files_that_are_not_iana_zones_are_refused_not_a_500(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """Found by hand: `tz=localtime` (a file of the zoneinfo directory, so zoneinfo took it)
    reached PostgreSQL: the embedded one knows no such zone (a 500), a system one cuts the days
    in the machine's zone. Zones are the doctors' list now (server.doctors.schemas)."""
    admin = await make_user(db, settings, role="admin")
    for path in ("bookings-per-day", "outcomes", "revenue-per-day", "busiest", "lead-time"):
        for zone in ("localtime", "Factory", "posixrules", "posix/Europe/Paris", "right/UTC"):
            answer = await client.get(f"{API}/{path}", params={"tz": zone}, headers=admin.headers)
            assert answer.status_code == 422, (path, zone, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
            assert [e["code"] for e in answer.json()["errors"]] == ["unknown_time_zone"]
        fine = await client.get(
            f"{API}/{path}", params={"tz": "Asia/Kathmandu"}, headers=admin.headers
        )
        assert fine.status_code == 200, fine.text
