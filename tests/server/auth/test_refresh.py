"""Rotating refresh tokens: each refresh spends its token; reuse ends the whole session."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx

from tests.server.auth.conftest import (
    API,
    AppFactory,
    ClientFactory,
    bearer,
    login,
    register,
    signed_up,
    snapshot,
)


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(f"{API}/refresh-token", json={"refresh_token": token})


async def test_each_refresh_rotates_the_token_within_one_session(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    _, first = await signed_up(client)
    response = await refresh(client, first["refresh_token"])
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["user"] == first["user"]
    third = (await refresh(client, second["refresh_token"])).json()
    assert (await client.get(f"{API}/me", headers=bearer(third))).status_code == 200
    # The old access token lives on until it expires: the session is still the same.
    assert (await client.get(f"{API}/me", headers=bearer(first))).status_code == 200
    assert await db.fetchval("SELECT count(*) FROM auth.sessions") == 1
    assert (
        await db.fetchval("SELECT count(*) FROM auth.refresh_tokens WHERE rotated_at IS NOT NULL")
        == 2
    )


async def test_reusing_a_rotated_token_revokes_the_whole_family(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    _, first = await signed_up(client)
    second = (await refresh(client, first["refresh_token"])).json()

    stolen = await refresh(client, first["refresh_token"])
    assert stolen.status_code == 401
    assert stolen.json()["type"] == "/problems/invalid-refresh-token"
    # Everything of that session is dead now, including the legitimate newest tokens.
    assert (await refresh(client, second["refresh_token"])).status_code == 401
    for tokens in (first, second):
        assert (await client.get(f"{API}/me", headers=bearer(tokens))).status_code == 401
    assert await db.fetchval("SELECT count(*) FROM auth.sessions WHERE revoked_at IS NULL") == 0


async def test_racing_refreshes_of_one_token_never_yield_two_live_families(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    _, tokens = await signed_up(client)
    responses = await asyncio.gather(*(refresh(client, tokens["refresh_token"]) for _ in range(5)))
    statuses = sorted(r.status_code for r in responses)
    # One rotates; the others are reuse of a spent token, which revokes the session.
    assert statuses == [200, 401, 401, 401, 401]
    assert await db.fetchval("SELECT count(*) FROM auth.sessions WHERE revoked_at IS NULL") == 0


async def test_unknown_refresh_token_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    await signed_up(client)
    before = await snapshot(db)
    response = await refresh(client, "not-a-token-we-issued")
    assert response.status_code == 401
    assert await snapshot(db) == before


async def test_expired_refresh_token_is_refused(
    make_app: AppFactory, client_for: ClientFactory, db: asyncpg.Connection
) -> None:
    app, _ = await make_app(refresh_token_ttl_s=1)
    client = await client_for(app)
    email = (await register(client))["user"]["email"]
    tokens = await login(client, email)
    await asyncio.sleep(1.2)
    before = await snapshot(db)
    assert (await refresh(client, tokens["refresh_token"])).status_code == 401
    # The session ended with its refresh window: its access token is refused as well.
    assert (await client.get(f"{API}/me", headers=bearer(tokens))).status_code == 401
    assert await snapshot(db) == before


async def test_refresh_picks_up_a_role_change(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    _, tokens = await signed_up(client)
    await db.execute("UPDATE auth.users SET role = 'doctor' WHERE id = $1", tokens["user"]["id"])
    refreshed = (await refresh(client, tokens["refresh_token"])).json()
    check = await client.get(f"{API}/validate-token", headers=bearer(refreshed))
    assert check.json()["role"] == "doctor"
