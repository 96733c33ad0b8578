"""Malformed, mistyped, oversized and incomplete bodies are refused and change nothing."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from tests.server.auth.conftest import API, bearer, signed_up, snapshot

BODY_ENDPOINTS = [
    "/register",
    "/login",
    "/refresh-token",
    "/forgot-password",
    "/reset-password",
    "/verify-mfa",
]


@pytest.fixture
async def baseline(client: httpx.AsyncClient, db: asyncpg.Connection) -> dict[str, object]:
    await signed_up(client)  # some state that must survive every refused request
    return await snapshot(db)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"email": "a@example.test", ', id="truncated"),
        pytest.param(b"[" * 100_000, id="nested-too-deep"),  # RecursionError in the decoder
        pytest.param(b'{"email": "\xff\xfe@example.test"}', id="invalid-utf8"),
    ],
)
async def test_malformed_json_is_400(
    client: httpx.AsyncClient, db: asyncpg.Connection, baseline: dict[str, object], body: bytes
) -> None:
    for path in BODY_ENDPOINTS:
        response = await client.post(
            f"{API}{path}", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400, path
        assert response.json()["type"] == "/problems/malformed-json"
        assert response.json()["code"] == "malformed-json"
    assert await snapshot(db) == baseline


async def test_non_json_body_is_415(
    client: httpx.AsyncClient, db: asyncpg.Connection, baseline: dict[str, object]
) -> None:
    for path in BODY_ENDPOINTS:
        response = await client.post(
            f"{API}{path}",
            content=b"email=a@example.test&password=x",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 415, path
    assert await snapshot(db) == baseline


async def test_oversized_body_is_413(
    client: httpx.AsyncClient, db: asyncpg.Connection, baseline: dict[str, object]
) -> None:
    huge = b'{"email": "' + b"a" * 1_100_000 + b'@example.test", "password": "x"}'
    for path in BODY_ENDPOINTS:
        response = await client.post(
            f"{API}{path}", content=huge, headers={"content-type": "application/json"}
        )
        assert response.status_code == 413, path
    assert await snapshot(db) == baseline


MISSING = {
    "/register": {"email", "password"},
    "/login": {"email", "password"},
    "/refresh-token": {"refresh_token"},
    "/forgot-password": {"email"},
    "/reset-password": {"token", "new_password"},
    "/verify-mfa": {"mfa_token", "code"},
}


async def test_missing_fields_are_422_with_field_errors(
    client: httpx.AsyncClient, db: asyncpg.Connection, baseline: dict[str, object]
) -> None:
    for path, missing in MISSING.items():
        response = await client.post(f"{API}{path}", json={})
        assert response.status_code == 422, path
        body = response.json()
        assert body["type"] == "/problems/invalid-input"
        assert {e["field"] for e in body["errors"]} == missing, path
        assert {e["code"] for e in body["errors"]} == {"missing"}, path
    assert await snapshot(db) == baseline


async def test_mfa_routes_need_a_signed_in_caller(
    client: httpx.AsyncClient, db: asyncpg.Connection, baseline: dict[str, object]
) -> None:
    for path, body in (("/mfa/enroll", None), ("/mfa/confirm", {"code": "123456"})):
        assert (await client.post(f"{API}{path}", json=body)).status_code == 401
    assert (await client.post(f"{API}/logout")).status_code == 401
    assert await snapshot(db) == baseline


async def test_confirming_without_enrolment_is_a_conflict(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    _, tokens = await signed_up(client)
    before = await snapshot(db)
    response = await client.post(
        f"{API}/mfa/confirm", json={"code": "123456"}, headers=bearer(tokens)
    )
    assert response.status_code == 409
    assert response.json()["type"] == "/problems/mfa-not-enrolled"
    assert await snapshot(db) == before
