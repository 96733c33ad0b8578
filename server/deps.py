"""Request-scoped access to the engines the lifespan opened."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from server.engines import Engines


def get_engines(request: Request) -> Engines:
    engines: Engines = request.state.engines
    return engines


# As dependencies, async though they never wait: FastAPI runs a plain `def` dependency in a
# worker thread, a thread hop (and a wait for one of anyio's 40 tokens under a rush) on every
# request.
async def engines_dependency(request: Request) -> Engines:
    return get_engines(request)


async def pool_dependency(request: Request) -> asyncpg.Pool:
    return get_engines(request).pool


# Route parameters: `engines: EnginesDep`, `pool: PoolDep`.
EnginesDep = Annotated[Engines, Depends(engines_dependency)]
PoolDep = Annotated[asyncpg.Pool, Depends(pool_dependency)]
