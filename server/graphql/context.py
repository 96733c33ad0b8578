"""Per-request GraphQL context: the caller, the engines and fresh data loaders."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import asyncpg
from fastapi import Request
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from server.auth.principal import OptionalPrincipal, Principal
from server.deps import EnginesDep
from server.engines import Engines
from server.errors import SIGN_IN, Unauthenticated
from storage import parties as store

R = TypeVar("R")


def _batch(
    pool: asyncpg.Pool,
    query: Callable[[asyncpg.Connection, list[uuid.UUID]], Awaitable[list[asyncpg.Record]]],
) -> Callable[[Sequence[uuid.UUID]], Awaitable[list[asyncpg.Record | None]]]:
    """A loader function: one statement for the whole batch, answers in the keys' order."""

    async def load(keys: Sequence[uuid.UUID]) -> list[asyncpg.Record | None]:
        async with pool.acquire() as con:
            rows = {row["id"]: row for row in await query(con, list(keys))}
        return [rows.get(key) for key in keys]

    return load


@dataclass
class Loaders:
    doctors: DataLoader[uuid.UUID, asyncpg.Record | None]
    patients: DataLoader[uuid.UUID, asyncpg.Record | None]

    @classmethod
    def for_request(cls, pool: asyncpg.Pool) -> Loaders:
        return cls(
            doctors=DataLoader(load_fn=_batch(pool, store.doctors_by_ids)),
            patients=DataLoader(load_fn=_batch(pool, store.patients_by_ids)),
        )


@dataclass
class Context(BaseContext):
    engines: Engines
    principal_or_none: Principal | None
    loaders: Loaders = field(repr=False)

    def __post_init__(self) -> None:
        super().__init__()

    @property
    def pool(self) -> asyncpg.Pool:
        return self.engines.pool

    @property
    def http(self) -> Request:
        assert isinstance(self.request, Request)
        return self.request

    @property
    def principal(self) -> Principal:
        """The signed-in caller; Unauthenticated (code `sign-in-required`) otherwise."""
        if self.principal_or_none is None:
            raise Unauthenticated(SIGN_IN)
        return self.principal_or_none


async def get_context(principal: OptionalPrincipal, engines: EnginesDep) -> Context:
    """FastAPI dependency: the same authentication as every REST route."""
    return Context(engines, principal, Loaders.for_request(engines.pool))
