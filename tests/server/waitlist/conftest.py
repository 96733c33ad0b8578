"""Fixtures of the waitlist tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from storage.pool import open_pool


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the test database, for calling service functions other domains call."""
    async with open_pool(database_url, max_size=4) as p:
        yield p
