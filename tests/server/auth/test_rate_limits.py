"""Sign-in and reset requests are limited per account and per address, on every node alike."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx

from tests.server.auth.conftest import (
    API,
    PASSWORD,
    AppFactory,
    ClientFactory,
    new_email,
    register,
    snapshot,
)


async def attempt(client: httpx.AsyncClient, email: str, password: str = "wrong-password") -> int:
    response = await client.post(f"{API}/login", json={"email": email, "password": password})
    return response.status_code


async def test_login_is_limited_per_address_and_answers_alike_for_unknown_emails(
    make_app: AppFactory, client_for: ClientFactory, db: asyncpg.Connection
) -> None:
    app, _ = await make_app(login_rate_limit="3/minute")
    known = new_email()
    await register(await client_for(app), known)
    client = await client_for(app, "10.0.1.1")
    statuses = await asyncio.gather(*(attempt(client, new_email()) for _ in range(3)))
    assert statuses == [401, 401, 401]
    before = await snapshot(db)
    limited_known = await client.post(f"{API}/login", json={"email": known, "password": PASSWORD})
    limited_unknown = await client.post(
        f"{API}/login", json={"email": new_email(), "password": PASSWORD}
    )
    for response in (limited_known, limited_unknown):
        assert response.status_code == 429
        assert response.headers["content-type"] == "application/problem+json"
        assert 1 <= int(response.headers["retry-after"]) <= 60
        assert response.json()["type"] == "/problems/rate-limited"
    assert limited_known.json()["detail"] == limited_unknown.json()["detail"]
    assert await snapshot(db) == before
    # A flood from one address does not lock the accounts it named: another address signs in.
    assert await attempt(await client_for(app, "10.0.1.2"), known, PASSWORD) == 200


async def test_forgot_password_is_limited_per_account_and_per_address(
    make_app: AppFactory, client_for: ClientFactory, db: asyncpg.Connection
) -> None:
    app, _ = await make_app(forgot_rate_limit="2/minute")
    email = new_email()
    await register(await client_for(app), email)

    async def forgot(ip: str, target: str) -> int:
        client = await client_for(app, ip)
        return (await client.post(f"{API}/forgot-password", json={"email": target})).status_code

    assert [await forgot(f"10.0.2.{i}", email) for i in range(3)] == [202, 202, 429]
    assert [await forgot("10.0.3.1", new_email()) for _ in range(3)] == [202, 202, 429]
    assert await db.fetchval("SELECT count(*) FROM notify.outbox") == 2


async def test_limits_are_shared_by_nodes_through_redis(
    make_app: AppFactory, client_for: ClientFactory, redis_url: str
) -> None:
    # Two nodes of one deployment: attempts on either count against the same window.
    node_a, _ = await make_app(login_rate_limit="4/minute", redis_url=redis_url)
    node_b, _ = await make_app(login_rate_limit="4/minute", redis_url=redis_url)
    email = new_email()
    await register(await client_for(node_a), email)
    # A fresh address per run: the Redis windows outlive the test.
    ip = f"10.9.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    a, b = await client_for(node_a, ip), await client_for(node_b, ip)
    statuses = [await attempt(c, email) for c in (a, b, a, b, a)]
    assert statuses == [401, 401, 401, 401, 429]
