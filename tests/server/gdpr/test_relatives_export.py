"""GDPR export and relatives (issue #24): the proxy's export holds the relatives they manage
(profile, consent, appointments; history only when shared), and nobody else's."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import asyncpg
import httpx
import pytest

from server.settings import Settings
from tests.factories import Patient, make_patient
from tests.server.patients.test_relatives import add
from tests.server.scheduling.helpers import book, doctor_with_availability, local

pytestmark = pytest.mark.engines


async def _export(client: httpx.AsyncClient, who: Patient) -> dict[str, Any]:
    answer = await client.get("/api/v1/me/export", headers=who.user.headers)
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = json.loads(
        zipfile.ZipFile(io.BytesIO(answer.content)).read("export.json")
    )
    return data


async def test_the_export_holds_my_relatives_and_nobody_elses(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    parent, neighbour = await make_patient(db, settings), await make_patient(db, settings)
    lea = await add(client, parent)
    mother = await add(
        client,
        parent,
        first_name="Odile",
        relationship="MTH",
        date_of_birth="1950-05-05",
        consent_basis="self",
        can_view_history=True,
    )
    await add(client, neighbour, first_name="Zoé")
    booked = await book(client, parent, doctor, local(doctor, 2, "10:00"), patient_id=lea["id"])
    assert booked.status_code == 201, booked.text
    await client.post(
        f"/api/v1/patients/{mother['id']}/medical-history",
        json={"condition": "Hypertension"},
        headers=parent.user.headers,
    )

    data = await _export(client, parent)

    relatives = {r["profile"]["first_name"]: r for r in data["relatives"]}
    assert set(relatives) == {"Léa", "Odile"}
    assert relatives["Léa"]["profile"]["consent"]["basis"] == "legal_guardian"
    [visit] = relatives["Léa"]["appointments"]
    assert visit["id"] == booked.json()["id"] and visit["booked_by"] == "you"
    assert relatives["Léa"]["medical_history"] == []
    assert [h["condition"] for h in relatives["Odile"]["medical_history"]] == ["Hypertension"]
    assert data["appointments"] == []  # the parent's own: none
    assert "Zoé" not in json.dumps(data)
    assert [
        r["profile"]["first_name"] for r in (await _export(client, neighbour))["relatives"]
    ] == ["Zoé"]
