"""Medical history: encrypted at rest (field level, AES-GCM), readable across key rotation."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
from asgi_lifespan import LifespanManager

from server.app import create_app
from server.settings import Settings
from tests.conftest import EngineUrls, delete_stream, make_settings
from tests.factories import make_patient


@asynccontextmanager
async def client_with_keys(
    database_url: str, engine_urls: EngineUrls, data_dir: Path, data_keys: str
) -> AsyncIterator[httpx.AsyncClient]:
    """A second server node on the same database, configured with other data keys."""
    settings = make_settings(database_url, engine_urls.nats_url, data_dir, data_keys=data_keys)
    app = create_app(settings)
    try:
        async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://node2") as client:
                yield client
    finally:
        await delete_stream(engine_urls.nats_url, settings.nats_stream)


async def test_history_is_stored_without_plaintext_and_read_back(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    patient = await make_patient(db, settings)
    url = f"/api/v1/patients/{patient.id}/medical-history"
    entry = {
        "condition": "Diabète de type 2",
        "diagnosis_date": "2019-03-02",
        "notes": "Metformine 500 mg matin et soir",
    }
    created = await client.post(url, json=entry, headers=patient.user.headers)
    assert created.status_code == 201, created.text
    assert created.json()["condition"] == "Diabète de type 2"
    await client.post(url, json={"condition": "Migraine"}, headers=patient.user.headers)
    row = await db.fetchrow(
        "SELECT condition, notes, condition::text AS raw_c, notes::text AS raw_n "
        "FROM patients.medical_history WHERE id = $1",
        created.json()["id"],
    )
    for raw in (row["raw_c"], row["raw_n"]):
        assert "Diab" not in raw and "Metformine" not in raw and "type 2" not in raw
    assert set(row["condition"]) == {"kid", "nonce", "ct"} and row["condition"]["kid"] == "dev"
    page = (await client.get(url, headers=patient.user.headers)).json()
    assert page["total"] == 2
    assert [(e["condition"], e["notes"]) for e in page["items"]] == [
        ("Diabète de type 2", "Metformine 500 mg matin et soir"),
        ("Migraine", None),
    ]
    second = (await client.get(f"{url}?limit=1&offset=1", headers=patient.user.headers)).json()
    assert [e["condition"] for e in second["items"]] == ["Migraine"]


async def test_ciphertext_is_bound_to_its_patient(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """A value copied into another patient's history does not decrypt (aad = patient id)."""
    victim = await make_patient(db, settings)
    thief = await make_patient(db, settings)
    await client.post(
        f"/api/v1/patients/{victim.id}/medical-history",
        json={"condition": "HIV"},
        headers=victim.user.headers,
    )
    await db.execute(
        """INSERT INTO patients.medical_history (patient_id, condition)
           SELECT $1, condition FROM patients.medical_history WHERE patient_id = $2""",
        thief.id,
        victim.id,
    )
    stolen = await client.get(
        f"/api/v1/patients/{thief.id}/medical-history", headers=thief.user.headers
    )
    assert stolen.status_code == 500
    assert stolen.json()["type"] == "/problems/medical-history-unreadable"
    assert "HIV" not in stolen.text


async def test_bad_entries_are_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    patient = await make_patient(db, settings)
    url = f"/api/v1/patients/{patient.id}/medical-history"
    for body in (
        {},
        {"condition": ""},
        {"condition": "x" * 501},
        {"condition": "Flu", "diagnosis_date": "2999-01-01"},
        {"condition": "Flu", "notes": "n" * 10_001},
        {"condition": "Flu", "severity": "high"},
    ):
        response = await client.post(url, json=body, headers=patient.user.headers)
        assert response.status_code == 422, body
    assert await db.fetchval("SELECT count(*) FROM patients.medical_history") == 0


async def test_rotated_keys_keep_old_entries_readable(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    settings: Settings,
    database_url: str,
    engine_urls: EngineUrls,
    tmp_path: Path,
) -> None:
    patient = await make_patient(db, settings)
    url = f"/api/v1/patients/{patient.id}/medical-history"
    old = await client.post(url, json={"condition": "Hypertension"}, headers=patient.user.headers)
    assert old.status_code == 201
    new_key = base64.b64encode(os.urandom(32)).decode()
    rotated = f"k2:{new_key},{settings.data_keys.get_secret_value()}"
    async with client_with_keys(database_url, engine_urls, tmp_path / "n2", rotated) as node2:
        added = await node2.post(url, json={"condition": "Gout"}, headers=patient.user.headers)
        assert added.status_code == 201
        page = (await node2.get(url, headers=patient.user.headers)).json()
    assert [e["condition"] for e in page["items"]] == ["Hypertension", "Gout"]
    kids = await db.fetch(
        "SELECT condition->>'kid' AS kid FROM patients.medical_history ORDER BY created_at"
    )
    assert [r["kid"] for r in kids] == ["dev", "k2"]
    # A node that lost the old key cannot read old rows: it fails rather than show garbage.
    async with client_with_keys(database_url, engine_urls, tmp_path / "n3", f"k2:{new_key}") as n3:
        broken = await n3.get(url, headers=patient.user.headers)
    assert broken.status_code == 500 and "Hypertension" not in broken.text
    assert broken.json()["type"] == "/problems/medical-history-unreadable"
