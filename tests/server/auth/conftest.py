"""Auth test helpers: sign-up / sign-in through the API, custom-settings apps, DB counts."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager

from server.app import create_app
from server.settings import Settings
from tests.conftest import EngineUrls, delete_stream, make_settings

PASSWORD = "correct horse battery"
API = "/api/v1/auth"

# Every table an auth request may write; a refused request must leave all of them unchanged.
_TABLES = (
    "auth.users",
    "auth.sessions",
    "auth.refresh_tokens",
    "auth.mfa_secrets",
    "auth.recovery_codes",
    "auth.password_resets",
    "notify.outbox",
    "bus.outbox",
    "patients.patients",
)


def new_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@example.test"


async def snapshot(db: asyncpg.Connection) -> dict[str, Any]:
    """Row counts, plus the state columns that an update (not an insert) would change."""
    counts = {t: await db.fetchval(f"SELECT count(*) FROM {t}") for t in _TABLES}
    counts["revoked"] = await db.fetchval(
        "SELECT count(*) FROM auth.sessions WHERE revoked_at IS NOT NULL"
    )
    counts["hashes"] = await db.fetchval(
        "SELECT string_agg(password_hash, ',' ORDER BY id) FROM auth.users"
    )
    return counts


async def register(
    client: httpx.AsyncClient, email: str | None = None, password: str = PASSWORD, **extra: Any
) -> dict[str, Any]:
    body = {"email": email or new_email(), "password": password, **extra}
    if body.get("role", "patient") == "patient":
        body.setdefault("first_name", "Jeanne")
        body.setdefault("last_name", "Martin")
    response = await client.post(f"{API}/register", json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def login(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD, status: int = 200
) -> dict[str, Any]:
    response = await client.post(f"{API}/login", json={"email": email, "password": password})
    assert response.status_code == status, response.text
    data: dict[str, Any] = response.json()
    return data


async def signed_up(client: httpx.AsyncClient, **extra: Any) -> tuple[str, dict[str, Any]]:
    """A new patient, signed in: (email, token response)."""
    email = new_email()
    await register(client, email, **extra)
    return email, await login(client, email)


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


AppFactory = Callable[..., Awaitable[tuple[Any, Settings]]]
ClientFactory = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def stack(database_url: str) -> AsyncIterator[AsyncExitStack]:
    # Depends on the database so apps and clients close before the database is dropped.
    async with AsyncExitStack() as exit_stack:
        yield exit_stack


@pytest.fixture
def make_app(
    stack: AsyncExitStack, database_url: str, engine_urls: EngineUrls, tmp_path: Path
) -> AppFactory:
    """Start an app on the test database with settings overrides (tiny TTLs, tight limits)."""

    async def make(**overrides: Any) -> tuple[Any, Settings]:
        settings = make_settings(database_url, engine_urls.nats_url, tmp_path, **overrides)
        stack.push_async_callback(delete_stream, engine_urls.nats_url, settings.nats_stream)
        manager = await stack.enter_async_context(
            LifespanManager(create_app(settings), startup_timeout=60, shutdown_timeout=30)
        )
        return manager.app, settings

    return make


@pytest.fixture
def client_for(stack: AsyncExitStack) -> ClientFactory:
    """An HTTP client to `app` that appears to come from `ip`."""

    async def make(app: Any, ip: str = "127.0.0.1") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(ip, 40000))
        return await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://testserver")
        )

    return make
