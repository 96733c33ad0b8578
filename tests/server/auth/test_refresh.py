"""Rotating refresh tokens: each refresh spends its token; reuse ends the whole session."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import httpx

from server import clock
from server.settings import Settings
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


async def past_the_grace(db: asyncpg.Connection, settings: Settings) -> None:
    """Move every rotation back beyond the grace window."""
    long_ago = clock.now() - timedelta(seconds=settings.refresh_grace_s + 1)
    await db.execute(
        "UPDATE auth.refresh_tokens SET rotated_at = $1 WHERE rotated_at IS NOT NULL", long_ago
    )


async def test_reusing_a_rotated_token_revokes_the_whole_family(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    _, first = await signed_up(client)
    second = (await refresh(client, first["refresh_token"])).json()
    await past_the_grace(db, settings)

    stolen = await refresh(client, first["refresh_token"])
    assert stolen.status_code == 401
    assert stolen.json()["type"] == "/problems/invalid-refresh-token"
    # Everything of that session is dead now, including the legitimate newest tokens.
    assert (await refresh(client, second["refresh_token"])).status_code == 401
    for tokens in (first, second):
        assert (await client.get(f"{API}/me", headers=bearer(tokens))).status_code == 401
    assert await db.fetchval("SELECT count(*) FROM auth.sessions WHERE revoked_at IS NULL") == 0


async def test_two_tabs_refreshing_at_once_both_get_the_same_new_pair(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    _, tokens = await signed_up(client)
    tabs = await asyncio.gather(*(refresh(client, tokens["refresh_token"]) for _ in range(2)))
    assert [r.status_code for r in tabs] == [200, 200], [r.text for r in tabs]
    pairs = [r.json() for r in tabs]
    assert pairs[0]["refresh_token"] == pairs[1]["refresh_token"] != tokens["refresh_token"]
    # One family, one live token: the session goes on and its next refresh works.
    assert await db.fetchval("SELECT count(*) FROM auth.sessions WHERE revoked_at IS NULL") == 1
    assert await db.fetchval("SELECT count(*) FROM auth.refresh_tokens") == 2
    for pair in pairs:
        assert (await client.get(f"{API}/me", headers=bearer(pair))).status_code == 200
    assert (await refresh(client, pairs[0]["refresh_token"])).status_code == 200


async def test_many_racing_refreshes_of_one_token_never_yield_two_live_families(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    _, tokens = await signed_up(client)
    responses = await asyncio.gather(*(refresh(client, tokens["refresh_token"]) for _ in range(5)))
    assert {r.status_code for r in responses} == {200}
    assert len({r.json()["refresh_token"] for r in responses}) == 1
    assert await db.fetchval("SELECT count(*) FROM auth.sessions WHERE revoked_at IS NULL") == 1


async def test_a_spent_token_whose_successor_was_spent_too_is_reuse_even_within_the_grace(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    _, first = await signed_up(client)
    second = (await refresh(client, first["refresh_token"])).json()
    third = (await refresh(client, second["refresh_token"])).json()
    assert (await refresh(client, first["refresh_token"])).status_code == 401
    assert (await client.get(f"{API}/me", headers=bearer(third))).status_code == 401
    assert await db.fetchval("SELECT count(*) FROM auth.sessions WHERE revoked_at IS NULL") == 0


async def test_no_refresh_token_is_kept_at_rest_in_plaintext(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    _, first = await signed_up(client)
    second = (await refresh(client, first["refresh_token"])).json()
    stored = str(await db.fetch("SELECT * FROM auth.refresh_tokens")) + str(
        await db.fetch("SELECT * FROM auth.sessions")
    )
    for token in (first["refresh_token"], second["refresh_token"]):
        assert token not in stored


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
