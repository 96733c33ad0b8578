"""Request-scoped access to the engines the lifespan opened."""

from __future__ import annotations

import asyncpg
from fastapi import Request

from server.engines import Engines


def get_engines(request: Request) -> Engines:
    engines: Engines = request.state.engines
    return engines


def get_pool(request: Request) -> asyncpg.Pool:
    return get_engines(request).pool
