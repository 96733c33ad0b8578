"""An app with payments on, on the session's localstripe (fixtures for tests/server/payments)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from server.app import create_app
from server.settings import Settings
from tests.conftest import EngineUrls, delete_stream, make_settings


@pytest.fixture
async def paying_settings(
    database_url: str, engine_urls: EngineUrls, tmp_path: Path, localstripe_url: str
) -> AsyncIterator[Settings]:
    settings = make_settings(
        database_url,
        engine_urls.nats_url,
        tmp_path,
        payments_required=True,
        stripe_api_base=localstripe_url,
        stripe_webhook_secret=f"whsec_{secrets.token_hex(16)}",
        hold_ttl_s=120,
        hold_sweep_interval_s=0.1,
    )
    yield settings
    await delete_stream(engine_urls.nats_url, settings.nats_stream)


@pytest.fixture
async def paying(paying_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(paying_settings)
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c
