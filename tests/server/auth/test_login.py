"""Sign-in, token validation, /me and logout."""

from __future__ import annotations

from datetime import datetime

import asyncpg
import httpx
import jwt

from server import clock
from server.settings import Settings
from tests.server.auth.conftest import (
    API,
    PASSWORD,
    bearer,
    login,
    new_email,
    register,
    signed_up,
    snapshot,
)


async def test_login_returns_tokens_and_records_the_session(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    email = new_email()
    user = (await register(client, email))["user"]
    response = await client.post(
        f"{API}/login",
        json={"email": email.upper(), "password": PASSWORD},
        headers={"User-Agent": "pytest-agent/1.0"},
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    tokens = response.json()
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == settings.access_token_ttl_s
    assert tokens["user"] == user
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    session = await db.fetchrow(
        "SELECT user_id, ip_address, user_agent, revoked_at FROM auth.sessions WHERE id = $1",
        claims["sid"],
    )
    assert str(session["user_id"]) == user["id"]
    assert session["ip_address"] == "127.0.0.1"
    assert session["user_agent"] == "pytest-agent/1.0"
    assert session["revoked_at"] is None
    # Only a hash of the refresh token is stored.
    assert (
        await db.fetchval(
            "SELECT count(*) FROM auth.refresh_tokens WHERE token_hash = $1",
            tokens["refresh_token"],
        )
        == 0
    )


async def test_wrong_password_and_unknown_email_get_the_same_answer(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    email = new_email()
    await register(client, email)
    before = await snapshot(db)
    wrong = await client.post(f"{API}/login", json={"email": email, "password": "wrong-password"})
    unknown = await client.post(
        f"{API}/login", json={"email": new_email(), "password": "wrong-password"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["type"] == "/problems/invalid-credentials"
    assert await snapshot(db) == before


async def test_disabled_account_cannot_sign_in(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    email = new_email()
    await register(client, email)
    await db.execute("UPDATE auth.users SET is_active = false WHERE email = $1", email)
    body = await login(client, email, status=401)
    assert body["type"] == "/problems/invalid-credentials"


async def test_validate_token_and_me_describe_the_caller(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    email, tokens = await signed_up(client)
    valid = await client.get(f"{API}/validate-token", headers=bearer(tokens))
    assert valid.status_code == 200
    body = valid.json()
    assert body["valid"] is True
    assert body["user_id"] == tokens["user"]["id"] and body["role"] == "patient"
    expires_at = datetime.fromisoformat(body["expires_at"])
    remaining = (expires_at - clock.now()).total_seconds()
    assert 0 < remaining <= settings.access_token_ttl_s
    me = await client.get(f"{API}/me", headers=bearer(tokens))
    assert me.status_code == 200 and me.json()["email"] == email


async def test_missing_forged_or_wrong_audience_tokens_are_refused(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    _, tokens = await signed_up(client)
    assert (await client.get(f"{API}/validate-token")).status_code == 401
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    forged = jwt.encode(claims, "not-the-secret-but-long-enough-0123456789", algorithm="HS256")
    as_mfa = jwt.encode(
        {**claims, "aud": "markini:mfa"}, settings.jwt_secret.get_secret_value(), "HS256"
    )
    for token in (forged, as_mfa, "garbage", tokens["refresh_token"]):
        response = await client.get(
            f"{API}/validate-token", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"


async def test_logout_kills_the_access_token_at_once(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    email, tokens = await signed_up(client)
    other = await login(client, email)  # a second device stays signed in
    response = await client.post(f"{API}/logout", headers=bearer(tokens))
    assert response.status_code == 204
    for path in ("/validate-token", "/me"):
        assert (await client.get(f"{API}{path}", headers=bearer(tokens))).status_code == 401
    refreshed = await client.post(
        f"{API}/refresh-token", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 401
    assert (await client.get(f"{API}/me", headers=bearer(other))).status_code == 200
    assert (await client.post(f"{API}/logout", headers=bearer(tokens))).status_code == 401
    assert await db.fetchval("SELECT count(*) FROM auth.sessions WHERE revoked_at IS NULL") == 1


async def test_openapi_documents_every_auth_route(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    for route in (
        "register",
        "login",
        "logout",
        "refresh-token",
        "forgot-password",
        "reset-password",
        "verify-mfa",
        "validate-token",
        "me",
        "mfa/enroll",
        "mfa/confirm",
        "mfa/disable",
    ):
        operations = paths[f"{API}/{route}"]
        for operation in operations.values():
            assert operation["summary"], route
    login_responses = paths[f"{API}/login"]["post"]["responses"]
    assert {"200", "401", "422", "429"} <= set(login_responses)
