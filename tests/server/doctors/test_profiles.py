"""Doctor profiles: creation, validation, visibility of unverified doctors, edits."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from server.settings import Settings
from tests.factories import make_doctor, make_user


def profile(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "first_name": "Élodie",
        "last_name": "Lefèvre",
        "specializations": ["cardiology", "general-practice"],
        "license_number": "RPPS-10003456789",
        "years_of_experience": 12,
        "consultation_fee": 5000,
        "currency": "EUR",
        "bio": "Cardiologue à Lyon.",
        "profile_image_url": "https://img.example.test/elodie.jpg",
        "languages": ["fr", "en"],
        "address_line": "12 rue de la République",
        "city": "Lyon",
        "postcode": "69002",
        "latitude": 45.76,
        "longitude": 4.835,
        "time_zone": "Europe/Paris",
        "accepts_new_patients": True,
    }
    body.update(overrides)
    return body


async def _counts(db: asyncpg.Connection) -> tuple[int, int]:
    doctors = await db.fetchval("SELECT count(*) FROM doctors.doctors")
    events = await db.fetchval("SELECT count(*) FROM bus.outbox WHERE type LIKE 'doctor.%'")
    return doctors, events


async def test_doctor_creates_own_profile_unverified_with_created_event(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    user = await make_user(db, settings, "doctor")
    response = await client.post("/api/v1/doctors", json=profile(), headers=user.headers)
    assert response.status_code == 201, response.text
    doctor = response.json()
    assert doctor["user_id"] == str(user.id)
    assert doctor["verification_status"] == "unverified"
    assert doctor["specializations"] == ["cardiology", "general-practice"]
    assert doctor["consultation_fee"] == 5000 and doctor["rating"] == 0
    event = await db.fetchrow(
        "SELECT type, subject, data, actor FROM bus.outbox WHERE type = 'doctor.created'"
    )
    assert event["subject"] == f"doctor:{doctor['id']}"
    assert event["data"] == {"doctor_id": doctor["id"]}
    assert event["actor"] == str(user.id)
    me = await client.get("/api/v1/doctors/me", headers=user.headers)
    assert me.json()["id"] == doctor["id"]


async def test_admin_creates_a_profile_for_a_doctor_account_only(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    admin = await make_user(db, settings, "admin")
    target = await make_user(db, settings, "doctor")
    patient = await make_user(db, settings, "patient")
    missing = await client.post("/api/v1/doctors", json=profile(), headers=admin.headers)
    assert missing.status_code == 422
    wrong = await client.post(
        "/api/v1/doctors", json=profile(user_id=str(patient.id)), headers=admin.headers
    )
    assert wrong.status_code == 422
    made = await client.post(
        "/api/v1/doctors", json=profile(user_id=str(target.id)), headers=admin.headers
    )
    assert made.status_code == 201
    assert made.json()["user_id"] == str(target.id)


async def test_other_roles_and_accounts_cannot_create_profiles(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    patient = await make_user(db, settings, "patient")
    doctor = await make_user(db, settings, "doctor")
    other = await make_user(db, settings, "doctor")
    assert (await client.post("/api/v1/doctors", json=profile())).status_code == 401
    by_patient = await client.post("/api/v1/doctors", json=profile(), headers=patient.headers)
    assert by_patient.status_code == 403
    for_other = await client.post(
        "/api/v1/doctors", json=profile(user_id=str(other.id)), headers=doctor.headers
    )
    assert for_other.status_code == 403
    assert await _counts(db) == (0, 0)


async def test_second_profile_and_duplicate_license_are_conflicts(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    existing = await make_doctor(db, settings, license_number="RPPS-TAKEN-1")
    user = await make_user(db, settings, "doctor")
    before = await _counts(db)
    taken = await client.post(
        "/api/v1/doctors", json=profile(license_number="RPPS-TAKEN-1"), headers=user.headers
    )
    assert taken.status_code == 409
    assert taken.json()["type"] == "/problems/license-taken"
    again = await client.post("/api/v1/doctors", json=profile(), headers=existing.user.headers)
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/profile-exists"
    assert await _counts(db) == before


BAD_FIELDS: list[tuple[str, dict[str, Any]]] = [
    ("unknown specialization", {"specializations": ["cardiology", "astrology"]}),
    ("no specialization", {"specializations": []}),
    ("repeated specialization", {"specializations": ["cardiology", "cardiology"]}),
    ("unknown time zone", {"time_zone": "Mars/Olympus_Mons"}),
    ("path as time zone", {"time_zone": "../../etc/passwd"}),
    ("the machine's own zone", {"time_zone": "localtime"}),
    ("zoneinfo's placeholder zone", {"time_zone": "Factory"}),
    ("zoneinfo build artefact", {"time_zone": "posixrules"}),
    ("posix copy of a zone", {"time_zone": "posix/Europe/Paris"}),
    ("negative fee", {"consultation_fee": -1}),
    ("fractional fee", {"consultation_fee": 49.5}),
    ("fee as text", {"consultation_fee": "5000"}),
    ("huge fee", {"consultation_fee": 10**9}),
    ("lowercase currency", {"currency": "eur"}),
    ("language name", {"languages": ["french"]}),
    ("repeated language", {"languages": ["fr", "fr"]}),
    ("latitude out of range", {"latitude": 91}),
    ("latitude without longitude", {"longitude": None}),
    ("non-http photo", {"profile_image_url": "javascript:alert(1)"}),
    ("negative experience", {"years_of_experience": -3}),
    ("empty first name", {"first_name": "   "}),
    ("blank license", {"license_number": ""}),
    ("country name", {"country": "France"}),
    ("server-owned field", {"verification_status": "verified"}),
    ("server-owned rating", {"rating": 5}),
]


async def test_each_bad_field_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    user = await make_user(db, settings, "doctor")
    for label, change in BAD_FIELDS:
        response = await client.post(
            "/api/v1/doctors", json=profile(**change), headers=user.headers
        )
        assert response.status_code == 422, (label, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"], label
    assert await _counts(db) == (0, 0)


async def test_unverified_doctor_is_hidden_from_everyone_but_owner_and_admins(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    hidden = await make_doctor(db, settings, verified=False)
    other = await make_doctor(db, settings)
    patient = await make_user(db, settings, "patient")
    admin = await make_user(db, settings, "admin")
    base = f"/api/v1/doctors/{hidden.id}"
    for path in (base, f"{base}/specializations", f"{base}/reviews"):
        assert (await client.get(path)).status_code == 404, path
        assert (await client.get(path, headers=patient.headers)).status_code == 404, path
        assert (await client.get(path, headers=other.user.headers)).status_code == 404, path
        assert (await client.get(path, headers=hidden.user.headers)).status_code == 200, path
        assert (await client.get(path, headers=admin.headers)).status_code == 200, path
    public = await client.get(f"/api/v1/doctors/{other.id}")
    assert public.status_code == 200
    assert public.json()["verification_status"] == "verified"


async def test_owner_edits_profile_and_omitted_fields_are_kept(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    response = await client.put(
        f"/api/v1/doctors/{doctor.id}",
        json={"consultation_fee": 6500, "languages": ["fr", "de"], "time_zone": "Europe/Berlin"},
        headers=doctor.user.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["consultation_fee"] == 6500
    assert body["languages"] == ["fr", "de"] and body["time_zone"] == "Europe/Berlin"
    assert body["last_name"] == "Lefèvre" and body["verification_status"] == "verified"
    cleared = await client.put(
        f"/api/v1/doctors/{doctor.id}",
        json={"latitude": None, "longitude": None, "profile_image_url": None},
        headers=doctor.user.headers,
    )
    assert cleared.status_code == 200 and cleared.json()["latitude"] is None
    types = await db.fetch("SELECT type FROM bus.outbox WHERE subject = $1", f"doctor:{doctor.id}")
    assert [r["type"] for r in types] == ["doctor.updated", "doctor.updated"]


async def test_bad_edits_are_refused_and_change_nothing(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    await make_doctor(db, settings, license_number="RPPS-OTHER-9")
    url = f"/api/v1/doctors/{doctor.id}"
    before = await db.fetchrow("SELECT * FROM doctors.doctors WHERE id = $1", doctor.id)
    cases: list[tuple[dict[str, Any], int]] = [
        ({"first_name": None}, 422),
        ({"time_zone": "Europe/Atlantis"}, 422),
        ({"specializations": ["alchemy"]}, 422),
        ({"latitude": None}, 422),
        ({"consultation_fee": -5}, 422),
        ({"user_id": str(uuid.uuid4())}, 422),  # read-only: sent back, it must be the same
        ({"license_number": "RPPS-OTHER-9"}, 409),
    ]
    for change, status in cases:
        response = await client.put(url, json=change, headers=doctor.user.headers)
        assert response.status_code == status, (change, response.text)
    after = await db.fetchrow("SELECT * FROM doctors.doctors WHERE id = $1", doctor.id)
    assert dict(after) == dict(before)
    assert await db.fetchval("SELECT count(*) FROM bus.outbox") == 0


async def test_only_the_owner_or_an_admin_edits_a_profile(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    hidden = await make_doctor(db, settings, verified=False)
    other = await make_doctor(db, settings)
    patient = await make_user(db, settings, "patient")
    admin = await make_user(db, settings, "admin")
    change = {"bio": "changed"}
    url = f"/api/v1/doctors/{doctor.id}"
    assert (await client.put(url, json=change)).status_code == 401
    assert (await client.put(url, json=change, headers=patient.headers)).status_code == 403
    assert (await client.put(url, json=change, headers=other.user.headers)).status_code == 403
    hidden_url = f"/api/v1/doctors/{hidden.id}"
    assert (
        await client.put(hidden_url, json=change, headers=other.user.headers)
    ).status_code == 404
    assert await db.fetchval("SELECT count(*) FROM doctors.doctors WHERE bio = 'changed'") == 0
    by_admin = await client.put(url, json=change, headers=admin.headers)
    assert by_admin.status_code == 200 and by_admin.json()["bio"] == "changed"


async def test_new_license_number_sends_a_verified_doctor_back_to_verification(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    response = await client.put(
        f"/api/v1/doctors/{doctor.id}",
        json={"license_number": "RPPS-NEW-0001"},
        headers=doctor.user.headers,
    )
    assert response.json()["verification_status"] == "unverified"
    assert (await client.get(f"/api/v1/doctors/{doctor.id}")).status_code == 404


async def test_catalogue_and_a_doctors_specializations_have_both_languages(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    catalogue = (await client.get("/api/v1/specializations")).json()
    assert len(catalogue) >= 20
    by_code = {s["code"]: s for s in catalogue}
    assert by_code["pediatrics"]["name_fr"] == "Pédiatrie"
    doctor = await make_doctor(db, settings, specializations=["dermatology", "allergology"])
    own = (await client.get(f"/api/v1/doctors/{doctor.id}/specializations")).json()
    assert [s["code"] for s in own] == ["dermatology", "allergology"]
    assert own[0] == {"code": "dermatology", "name_en": "Dermatology", "name_fr": "Dermatologie"}


@pytest.mark.parametrize("zone", ["localtime", "Factory", "posixrules"])
async def test_an_update_to_a_non_iana_zone_is_refused(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, zone: str
) -> None:
    doctor = await make_doctor(db, settings)
    response = await client.put(
        f"/api/v1/doctors/{doctor.id}", json={"time_zone": zone}, headers=doctor.user.headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "time_zone"
    stored = await db.fetchval("SELECT time_zone FROM doctors.doctors WHERE id = $1", doctor.id)
    assert stored == doctor.time_zone


@pytest.mark.parametrize("zone", ["America/New_York", "UTC", "US/Eastern", "Asia/Calcutta"])
async def test_iana_zones_and_their_backward_links_are_accepted(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, zone: str
) -> None:
    doctor = await make_doctor(db, settings)
    response = await client.put(
        f"/api/v1/doctors/{doctor.id}", json={"time_zone": zone}, headers=doctor.user.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["time_zone"] == zone
