"""Request-scoped access to the engines the lifespan opened."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from server.engines import Engines


def get_engines(request: Request) -> Engines:
    engines: Engines = request.state.engines
    return engines


def get_pool(request: Request) -> asyncpg.Pool:
    return get_engines(request).pool


# Route parameters: `engines: EnginesDep`, `pool: PoolDep`.
EnginesDep = Annotated[Engines, Depends(get_engines)]
PoolDep = Annotated[asyncpg.Pool, Depends(get_pool)]
