"""GDPR export: exactly the patient's own data (decrypted), the audit of who read it, and
nothing of anyone else."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from server import clock
from server.crypto import FieldCipher
from server.settings import Settings
from storage.chat import insert_message
from tests.factories import make_appointment, make_doctor, make_patient, make_user

pytestmark = pytest.mark.engines

URL = "/api/v1/me/export"


async def _history(client: httpx.AsyncClient, patient: Any, condition: str, notes: str) -> None:
    answer = await client.post(
        f"/api/v1/patients/{patient.id}/medical-history",
        json={"condition": condition, "notes": notes},
        headers=patient.user.headers,
    )
    assert answer.status_code == 201, answer.text


async def _say(
    db: asyncpg.Connection, settings: Settings, appointment: uuid.UUID, who: uuid.UUID, text: str
) -> None:
    body = FieldCipher(settings).encrypt(text, aad=appointment.bytes)
    sealed = body.model_dump() if hasattr(body, "model_dump") else dict(body)
    await insert_message(db, appointment, who, None, sealed, clock.now())


async def test_the_export_holds_exactly_the_patients_data_and_nobody_elses(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings, last_name="Martel")
    alice = await make_patient(db, settings, first_name="Alice", last_name="Dupont")
    bruno = await make_patient(db, settings, first_name="Bruno", last_name="Secretname")
    admin = await make_user(db, settings, "admin")
    start = clock.now().replace(microsecond=0) + timedelta(days=4)
    mine = await make_appointment(db, doctor, alice, start)
    theirs = await make_appointment(db, doctor, bruno, start + timedelta(hours=2))
    await _history(client, alice, "Asthma", "inhaler at night")
    await _history(client, bruno, "Bruno-only-condition", "bruno-only-notes")
    await _say(db, settings, mine, alice.user.id, "hello doctor")
    await _say(db, settings, mine, doctor.user.id, "hello Alice")
    await _say(db, settings, theirs, bruno.user.id, "bruno-only-message")
    read = await client.get(f"/api/v1/patients/{alice.id}", headers=doctor.user.headers)
    assert read.status_code == 200

    answer = await client.get(URL, headers=alice.user.headers)

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    assert sorted(archive.namelist()) == ["export.json", "summary.html"]
    data = json.loads(archive.read("export.json"))
    summary = archive.read("summary.html").decode()
    assert data["profile"]["id"] == str(alice.id)
    assert data["account"]["email"] == alice.user.email
    assert [(e["condition"], e["notes"], e["written_by"]) for e in data["medical_history"]] == [
        ("Asthma", "inhaler at night", "you")
    ]
    assert [a["id"] for a in data["appointments"]] == [str(mine)]
    assert data["appointments"][0]["doctor"]["name"] == "Dr Claire Martel"
    assert [(m["from"], m["body"]) for m in data["messages"]] == [
        ("you", "hello doctor"),
        ("your doctor", "hello Alice"),
    ]
    assert data["payments"] == []
    by_doctor = [e for e in data["access_log"] if e["by"] == "a doctor"]
    assert [e["action"] for e in by_doctor] == ["patient_profile.read"]
    assert "Asthma" in summary and "hello Alice" in summary

    everything = answer.content + archive.read("export.json") + summary.encode()
    for foreign in (
        "Bruno",
        "Secretname",
        "Bruno-only-condition",
        "bruno-only-notes",
        "bruno-only-message",
        str(bruno.id),
        str(bruno.user.id),
        str(theirs),
        str(doctor.user.id),
        str(admin.id),
        bruno.user.email,
    ):
        assert foreign.encode() not in everything, foreign
    audited = await db.fetchval(
        "SELECT count(*) FROM audit.logs WHERE action = 'gdpr.export' AND user_id = $1",
        alice.user.id,
    )
    assert audited == 1


async def test_only_a_signed_in_patient_exports(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    assert (await client.get(URL)).status_code == 401
    refused = await client.get(URL, headers=doctor.user.headers)
    assert refused.status_code == 404
    assert refused.headers["content-type"] == "application/problem+json"
