"""What the API returns is accepted back as it is: GET, then PUT the same body, changes nothing."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from server.settings import Settings
from tests.factories import make_doctor, make_patient
from tests.server.scheduling.helpers import availability, local, put_availability

IGNORED = {"updated_at", "availability_version"}


def _same(before: dict[str, Any], after: dict[str, Any]) -> bool:
    return {k: v for k, v in before.items() if k not in IGNORED} == {
        k: v for k, v in after.items() if k not in IGNORED
    }


async def test_an_availability_with_an_exception_and_a_reason_goes_back_unchanged(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    day = local(doctor, 5, "00:00").date().isoformat()
    body = availability(
        exceptions=[{"kind": "time-off", "start_date": day, "note": "Congress"}],
        reasons=[{"name": "Check-up", "duration_minutes": 30, "visit_types": ["in-person"]}],
    )
    await put_availability(client, doctor, body)
    url = f"/api/v1/doctors/{doctor.id}/availability"
    before = (await client.get(url)).json()

    again = await client.put(url, json=before, headers=doctor.user.headers)

    assert again.status_code == 200, again.text
    after = again.json()
    # Rules and exceptions are replaced whole (new ids); everything else stays as it was.
    for part in ("rules", "exceptions"):
        assert [_without_id(x) for x in after[part]] == [_without_id(x) for x in before[part]]
    assert after["reasons"] == before["reasons"] and after["settings"] == before["settings"]


async def test_a_doctor_profile_goes_back_unchanged(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    url = f"/api/v1/doctors/{doctor.id}"
    before = (await client.get(url)).json()

    again = await client.put(url, json=before, headers=doctor.user.headers)

    assert again.status_code == 200, again.text
    assert _same(before, again.json())


async def test_a_patient_profile_goes_back_unchanged(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    patient = await make_patient(db, settings)
    url = f"/api/v1/patients/{patient.id}"
    before = (await client.get(url, headers=patient.user.headers)).json()

    again = await client.put(url, json=before, headers=patient.user.headers)
    # An address stored empty comes back with its defaults filled in; from then on it is stable.
    twice = await client.put(url, json=again.json(), headers=patient.user.headers)

    assert again.status_code == twice.status_code == 200, again.text
    assert _same(again.json(), twice.json())
    assert _same(
        {**before, "address": {}, "insurance_info": {}},
        {**again.json(), "address": {}, "insurance_info": {}},
    )


async def test_read_only_fields_sent_back_change_nothing_but_unknown_ones_are_refused(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    patient = await make_patient(db, settings)
    url = f"/api/v1/patients/{patient.id}"
    stale = {"id": str(patient.id), "created_at": "2000-01-01T00:00:00Z"}
    other = {"id": "00000000-0000-0000-0000-000000000000"}

    kept = await client.put(url, json=stale, headers=patient.user.headers)
    moved = await client.put(url, json=other, headers=patient.user.headers)
    unknown = await client.put(url, json={"shoe_size": 42}, headers=patient.user.headers)

    assert kept.status_code == 200 and kept.json()["created_at"] != stale["created_at"]
    assert moved.status_code == 422 and moved.json()["errors"][0]["field"] == "id"
    assert unknown.status_code == 422


def _without_id(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != "id"}
