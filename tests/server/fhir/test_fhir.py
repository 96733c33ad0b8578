"""FHIR R4 under /fhir/R4: every resource validates against the `fhir.resources` R4 models; the
same authorization as REST (OperationOutcome refusals); reads audited."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi.routing import APIRoute
from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.relatedperson import RelatedPerson
from fhir.resources.R4B.schedule import Schedule
from fhir.resources.R4B.slot import Slot

from server import clock
from server.fhir import routes as fhir_routes
from server.settings import Settings
from tests.e2e.demo import OPEN_HOURS, REASONS
from tests.factories import Doctor, make_appointment, make_doctor, make_patient, make_user

pytestmark = pytest.mark.engines

BASE = "/fhir/R4"
MODELS: dict[str, Any] = {
    "Appointment": Appointment,
    "Bundle": Bundle,
    "CapabilityStatement": CapabilityStatement,
    "OperationOutcome": OperationOutcome,
    "Patient": Patient,
    "Practitioner": Practitioner,
    "RelatedPerson": RelatedPerson,
    "Schedule": Schedule,
    "Slot": Slot,
}


def valid(answer: httpx.Response, status: int = 200) -> dict[str, Any]:
    """The body, after checking the status, the media type and the R4 model of every resource."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/fhir+json"
    body: dict[str, Any] = answer.json()
    MODELS[body["resourceType"]].model_validate(body)
    for entry in body.get("entry", []):
        MODELS[entry["resource"]["resourceType"]].model_validate(entry["resource"])
    return body


async def open_every_day(client: httpx.AsyncClient, doctor: Doctor) -> None:
    """The demo's hours (07:00-22:00 every day, 30-minute slots) through the API."""
    availability = {
        "rules": OPEN_HOURS,
        "exceptions": [],
        "reasons": REASONS,
        "settings": {"min_notice_minutes": 0, "max_horizon_days": 60, "buffer_minutes": 0},
    }
    answer = await client.put(
        f"/api/v1/doctors/{doctor.id}/availability", json=availability, headers=doctor.user.headers
    )
    assert answer.status_code == 200, answer.text


async def test_metadata_practitioner_schedule_and_slots_validate(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings, specializations=["cardiology"])
    await open_every_day(client, doctor)

    metadata = valid(await client.get(f"{BASE}/metadata"))
    assert metadata["fhirVersion"] == "4.0.1"
    practitioner = valid(await client.get(f"{BASE}/Practitioner/{doctor.id}"))
    assert practitioner["name"][0]["family"] == doctor.fields["last_name"]
    identifier = practitioner["qualification"][0]["identifier"][0]["value"]
    assert identifier == doctor.fields["license_number"]
    schedule = valid(await client.get(f"{BASE}/Schedule/{doctor.id}"))
    assert schedule["actor"] == [{"reference": f"Practitioner/{doctor.id}"}]

    day = (clock.now() + timedelta(days=2)).date().isoformat()
    slots = valid(
        await client.get(
            f"{BASE}/Slot", params={"schedule": f"Schedule/{doctor.id}", "start": f"eq{day}"}
        )
    )
    assert slots["total"] > 0
    first = slots["entry"][0]["resource"]
    again = valid(await client.get(f"{BASE}/Slot/{first['id']}"))
    assert again == first
    missing = valid(await client.get(f"{BASE}/Practitioner/not-an-id"), 404)
    assert missing["issue"][0]["code"] == "not-found"


async def test_appointments_search_by_practitioner_date_status_specialty_with_rest_rules(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings, specializations=["cardiology"])
    patient, stranger = await make_patient(db, settings), await make_patient(db, settings)
    first = clock.now().replace(microsecond=0) + timedelta(days=3)
    kept = await make_appointment(db, doctor, patient, first)
    gone = await make_appointment(
        db, doctor, patient, first + timedelta(days=1), status="cancelled"
    )
    search = f"{BASE}/Appointment"
    mine = {"practitioner": f"Practitioner/{doctor.id}"}

    everything = valid(await client.get(search, params=mine, headers=doctor.user.headers))
    assert {e["resource"]["id"] for e in everything["entry"]} == {str(kept), str(gone)}
    booked = valid(
        await client.get(search, params={**mine, "status": "booked"}, headers=doctor.user.headers)
    )
    assert [e["resource"]["id"] for e in booked["entry"]] == [str(kept)]
    on_day = {**mine, "date": f"eq{first.date().isoformat()}"}
    dated = valid(await client.get(search, params=on_day, headers=doctor.user.headers))
    assert [e["resource"]["id"] for e in dated["entry"]] == [str(kept)]
    other = {**mine, "specialty": "dermatology"}
    assert valid(await client.get(search, params=other, headers=doctor.user.headers))["total"] == 0
    cardio = {**mine, "specialty": "cardiology"}
    assert valid(await client.get(search, params=cardio, headers=doctor.user.headers))["total"] == 2

    read = valid(await client.get(f"{BASE}/Appointment/{kept}", headers=patient.user.headers))
    assert read["status"] == "booked"
    hidden = valid(
        await client.get(f"{BASE}/Appointment/{kept}", headers=stranger.user.headers), 404
    )
    assert hidden["issue"][0]["details"]["coding"][0]["code"] == "/problems/not-found"
    refused = valid(await client.get(search, params=mine, headers=stranger.user.headers), 403)
    assert refused["issue"][0]["code"] == "forbidden"
    valid(await client.get(search, params=mine), 401)
    bad = valid(
        await client.get(
            search, params={**mine, "date": "eqyesterday"}, headers=doctor.user.headers
        ),
        422,
    )
    assert bad["issue"][0]["code"] == "invalid"


async def test_patient_read_follows_the_rest_relation_and_is_audited(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    patient, other = await make_patient(db, settings), await make_patient(db, settings)
    admin = await make_user(db, settings, "admin")
    await make_appointment(db, doctor, patient, clock.now() + timedelta(days=1))

    own = valid(await client.get(f"{BASE}/Patient/{patient.id}", headers=patient.user.headers))
    assert own["name"][0]["given"] == ["Jeanne"]
    valid(await client.get(f"{BASE}/Patient/{patient.id}", headers=doctor.user.headers))
    valid(await client.get(f"{BASE}/Patient/{patient.id}", headers=admin.headers))
    # A stranger learns nothing, not even that the patient exists: 404, as through REST.
    valid(await client.get(f"{BASE}/Patient/{patient.id}", headers=other.user.headers), 404)
    actions = await db.fetch(
        "SELECT action, response_status FROM audit.logs WHERE resource_id = $1",
        str(patient.id),
    )
    assert ("fhir.Patient.read", 200) in {(a["action"], a["response_status"]) for a in actions}
    assert any(a["response_status"] == 404 for a in actions)


async def test_the_capability_statement_lists_exactly_what_the_routes_take(
    client: httpx.AsyncClient,
) -> None:
    """Each resource's interactions and search parameters, as server/fhir/routes.py serves them
    (the statement once listed a Patient and a Schedule search no route answered)."""
    metadata = valid(await client.get(f"{BASE}/metadata"))
    served: dict[str, set[str]] = {}
    for route in fhir_routes.router.routes:
        assert isinstance(route, APIRoute)
        kind = route.path.removeprefix(BASE).strip("/").split("/")[0]
        if kind != "metadata" and "{" not in route.path:  # a search-type route
            served[kind] = {p.alias for p in route.dependant.query_params}
    stated = {
        r["type"]: (
            {i["code"] for i in r["interaction"]},
            {p["name"] for p in r.get("searchParam", [])},
        )
        for r in metadata["rest"][0]["resource"]
    }
    for kind, (interactions, params) in stated.items():
        assert (await client.get(f"{BASE}/{kind}/nope")).status_code != 405, kind
        if kind in served:
            assert interactions == {"read", "search-type"} and params == served[kind], kind
        else:
            assert interactions == {"read"} and not params, kind
    assert set(served) <= set(stated)
