"""GET /api/v1/admin/audit: admins search the trail; everyone else is refused."""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg
import httpx
import pytest

from server import clock
from server.audit.service import record_access
from server.auth.principal import Principal
from server.settings import Settings
from tests.factories import User, make_user

URL = "/api/v1/admin/audit"


async def _read(db: asyncpg.Connection, who: Principal, resource_id: str, action: str) -> None:
    await record_access(
        db, principal=who, action=action, resource_type="patient", resource_id=resource_id
    )


@pytest.fixture
async def admin(db: asyncpg.Connection, settings: Settings) -> User:
    return await make_user(db, settings, "admin")


async def test_admin_filters_by_user_resource_and_action(
    client: httpx.AsyncClient, db: asyncpg.Connection, admin: User
) -> None:
    alice, bob = (Principal(uuid.uuid4(), "doctor", uuid.uuid4()) for _ in range(2))
    await _read(db, alice, "p1", "medical_history.read")
    await _read(db, alice, "p2", "patient_profile.read")
    await _read(db, bob, "p1", "medical_history.read")

    by_user = await client.get(URL, params={"user_id": str(alice.user_id)}, headers=admin.headers)
    assert by_user.status_code == 200
    assert [e["resource_id"] for e in by_user.json()["items"]] == ["p2", "p1"]  # newest first

    by_resource = await client.get(
        URL, params={"resource_type": "patient", "resource_id": "p1"}, headers=admin.headers
    )
    assert {e["user_id"] for e in by_resource.json()["items"]} == {
        str(alice.user_id),
        str(bob.user_id),
    }

    await db.execute("SELECT audit.seal(100, now())")  # what the app's sealer does within 1 s
    by_action = await client.get(
        URL, params={"action": "patient_profile.read"}, headers=admin.headers
    )
    [entry] = by_action.json()["items"]
    assert (entry["user_id"], entry["resource_id"], entry["seq"]) == (str(alice.user_id), "p2", 2)
    assert entry["append_id"] == 2 and entry["sealed_at"] is not None
    assert len(entry["hash"]) == 64 and entry["prev_hash"] != entry["hash"]


async def test_admin_filters_by_time_range(
    client: httpx.AsyncClient, db: asyncpg.Connection, admin: User
) -> None:
    who = Principal(uuid.uuid4(), "doctor", uuid.uuid4())
    await _read(db, who, "p1", "medical_history.read")
    now = clock.now()
    hour = timedelta(hours=1)
    inside = await client.get(
        URL,
        params={"from": (now - hour).isoformat(), "to": (now + hour).isoformat()},
        headers=admin.headers,
    )
    assert [e["resource_id"] for e in inside.json()["items"]] == ["p1"]
    later = await client.get(URL, params={"from": (now + hour).isoformat()}, headers=admin.headers)
    assert later.json() == {"items": [], "next_cursor": None}


async def test_pages_walk_every_entry_once_newest_first(
    client: httpx.AsyncClient, db: asyncpg.Connection, admin: User
) -> None:
    who = Principal(uuid.uuid4(), "doctor", uuid.uuid4())
    for index in range(7):
        await _read(db, who, f"p{index}", "medical_history.read")
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {
            "resource_type": "patient",
            "limit": "3",
            **({"cursor": cursor} if cursor else {}),
        }
        page = (await client.get(URL, params=params, headers=admin.headers)).json()
        seen += [e["resource_id"] for e in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"p{index}" for index in range(6, -1, -1)]
    assert pages == 3


async def test_reading_the_trail_is_itself_audited(
    client: httpx.AsyncClient, db: asyncpg.Connection, admin: User
) -> None:
    await client.get(URL, params={"resource_type": "patient"}, headers=admin.headers)
    entry = await db.fetchrow("SELECT * FROM audit.logs WHERE action = 'audit.read'")
    assert entry["user_id"] == admin.id and entry["role"] == "admin"
    assert entry["request_payload"] == {"resource_type": "patient", "limit": 50}


async def test_non_admins_are_refused(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    anonymous = await client.get(URL)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    for role in ("patient", "doctor"):
        user = await make_user(db, settings, role)
        refused = await client.get(URL, headers=user.headers)
        assert refused.status_code == 403
        assert refused.json()["type"] == "/problems/forbidden"


BAD_FILTERS: list[dict[str, str]] = [
    {"user_id": "not-a-uuid"},
    {"limit": "0"},
    {"limit": "201"},
    {"cursor": "abc"},
    {"cursor": "-5"},
    {"from": "yesterday"},
    {"from": "2025-01-01T10:00:00"},  # no offset: ambiguous
    {"from": "2025-01-02T00:00:00+00:00", "to": "2025-01-01T00:00:00+00:00"},
    {"userid": str(uuid.uuid4())},  # a typo must not silently return everything
]


async def test_bad_filters_are_422_problems(client: httpx.AsyncClient, admin: User) -> None:
    # One app for every case: starting an app per case would cost more than the checks.
    for params in BAD_FILTERS:
        response = await client.get(URL, params=params, headers=admin.headers)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"], params


async def test_listing_is_in_the_openapi_contract(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    operation = spec["paths"][URL]["get"]
    assert {"401", "403", "422"} <= set(operation["responses"])
    assert {"user_id", "from", "to", "cursor", "limit"} <= {
        p["name"] for p in operation["parameters"]
    }
