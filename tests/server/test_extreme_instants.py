"""Extreme but well-formed datetimes and dates are a 422 naming the field, on every surface
(REST query parameters and bodies, GraphQL arguments, FHIR search), never a 500: the instants
Python or PostgreSQL cannot hold once an offset or a horizon is added are refused at the edge
(server.instants)."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from server.settings import Settings
from tests.factories import Doctor, Patient, User, make_doctor, make_patient, make_user

pytestmark = pytest.mark.engines

LOW = "0001-01-01T00:00:00+14:00"  # before year 1 in UTC: Python cannot even convert it
HIGH = "9999-12-31T23:59:59-12:00"  # after year 9999 in UTC
EARLIEST = "1900-01-01T00:00:00Z"
LATEST = "2999-12-31T23:59:59Z"
OUT = "instant_out_of_range"


@pytest.fixture
async def people(db: asyncpg.Connection, settings: Settings) -> tuple[Doctor, Patient, User]:
    doctor = await make_doctor(db, settings)
    patient = await make_patient(db, settings)
    admin = await make_user(db, settings, "admin")
    return doctor, patient, admin


def field_codes(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return {e["field"]: e["code"] for e in response.json()["errors"]}


@pytest.mark.parametrize("instant", [LOW, HIGH, "1899-12-31T23:59:59Z", "3000-01-01T00:00:00Z"])
async def test_rest_query_parameters_refuse_instants_out_of_range(
    client: httpx.AsyncClient, people: tuple[Doctor, Patient, User], instant: str
) -> None:
    doctor, patient, admin = people
    api = "/api/v1"

    bell = await client.get(
        f"{api}/notifications", params={"before": instant}, headers=patient.user.headers
    )
    assert field_codes(bell) == {"query.before": OUT}
    public = await client.get(  # no sign-in
        f"{api}/appointments/slots/available", params={"doctor_id": str(doctor.id), "from": instant}
    )
    assert field_codes(public) == {"query.from": OUT}
    for name in ("from", "to"):
        mine = await client.get(
            f"{api}/appointments/patient/{patient.id}",
            params={name: instant},
            headers=patient.user.headers,
        )
        assert field_codes(mine) == {f"query.{name}": OUT}
    audit = await client.get(f"{api}/admin/audit", params={"from": instant}, headers=admin.headers)
    assert field_codes(audit) == {"query.from": OUT}


async def test_rest_bodies_refuse_instants_out_of_range(
    client: httpx.AsyncClient, people: tuple[Doctor, Patient, User], db: asyncpg.Connection
) -> None:
    doctor, patient, _ = people
    for instant in (LOW, HIGH):
        booking = await client.post(
            "/api/v1/appointments",
            json={"doctor_id": str(doctor.id), "start": instant, "visit_type": "in-person"},
            headers=patient.user.headers,
        )
        assert field_codes(booking) == {"start": OUT}
        error = booking.json()["errors"][0]
        assert error["params"] == {"earliest": EARLIEST, "latest": LATEST}
        waiting = await client.post(
            "/api/v1/waitlist",
            json={
                "doctor_id": str(doctor.id),
                "visit_type": "in-person",
                "earliest": instant,
                "latest": instant,
            },
            headers=patient.user.headers,
        )
        assert field_codes(waiting) == {"earliest": OUT, "latest": OUT}
    assert await db.fetchval("SELECT count(*) FROM scheduling.appointments") == 0


async def test_the_bounds_themselves_are_accepted_and_an_offset_is_required(
    client: httpx.AsyncClient, people: tuple[Doctor, Patient, User]
) -> None:
    doctor, _, _ = people
    url = "/api/v1/appointments/slots/available"
    for instant in (EARLIEST, LATEST, "2999-12-31T23:59:59-00:00", "1900-01-01T14:00:00+14:00"):
        found = await client.get(url, params={"doctor_id": str(doctor.id), "from": instant})
        assert found.status_code == 200, (instant, found.text)
    naive = await client.get(url, params={"doctor_id": str(doctor.id), "from": "2030-01-01T10:00"})
    assert field_codes(naive) == {"query.from": "timezone_aware"}


@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"from": "0001-01-01", "to": "0001-01-02"}, "from", "day_out_of_range"),
        ({"to": "9999-12-31"}, "to", "day_out_of_range"),
    ],
)
async def test_analytics_days_out_of_range(
    client: httpx.AsyncClient,
    people: tuple[Doctor, Patient, User],
    params: dict[str, str],
    field: str,
    code: str,
) -> None:
    _, _, admin = people
    answer = await client.get(
        "/api/v1/analytics/bookings-per-day", params=params, headers=admin.headers
    )
    codes = field_codes(answer)
    assert codes[f"query.{field}"] == code, codes


async def test_graphql_arguments_refuse_instants_out_of_range(
    client: httpx.AsyncClient, people: tuple[Doctor, Patient, User]
) -> None:
    doctor, patient, _ = people
    queries: list[tuple[str, dict[str, Any]]] = [
        ("query($f: DateTime) { myAppointments(from: $f) { id } }", {"f": LOW}),
        (
            "query($id: ID!, $t: DateTime) { doctor(id: $id) { availability(to: $t) { start } } }",
            {"id": str(doctor.id), "t": HIGH},
        ),
    ]
    for query, variables in queries:
        answer = await client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers=patient.user.headers,
        )
        assert answer.status_code == 200, answer.text
        [error] = answer.json()["errors"]
        assert error["extensions"]["status"] == 422, error
        assert [e["code"] for e in error["extensions"]["errors"]] == [OUT], error


@pytest.mark.parametrize("start", [f"ge{LOW}", f"le{HIGH}", "eq9999-12-31", "lt0001-01-01"])
async def test_fhir_date_search_refuses_instants_out_of_range(
    client: httpx.AsyncClient, people: tuple[Doctor, Patient, User], start: str
) -> None:
    doctor, _, _ = people
    answer = await client.get(
        "/fhir/R4/Slot", params={"schedule": f"Schedule/{doctor.id}", "start": start}
    )
    assert answer.status_code == 422, answer.text
