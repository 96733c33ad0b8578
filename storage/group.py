"""Group commit for single-row statements that many requests send at once: the calls that arrive
while one group's statement runs go together in the next, one statement per group. Idle, a call
runs at once, alone; under a rush (the losers of a race for one slot) each waits for one shared
statement instead of queueing for a pool connection of its own, and still gets its own answer."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import asyncpg

Item = TypeVar("Item")
Answer = TypeVar("Answer")

# A bound on one statement's size; a longer queue is sent in several.
MAX_GROUP = 500


@dataclass
class _Queue(Generic[Item, Answer]):
    waiting: list[tuple[Item, asyncio.Future[Answer]]] = field(default_factory=list)


class Grouped(Generic[Item, Answer]):
    """`await grouped(pool, item)`: `run(connection, items)` answers a group, in order."""

    def __init__(
        self, run: Callable[[asyncpg.Connection, list[Item]], Awaitable[list[Answer]]]
    ) -> None:
        self._run = run
        # Per pool (by id: asyncpg pools take no weak references), only while a group runs.
        self._queues: dict[int, _Queue[Item, Answer]] = {}

    async def __call__(self, pool: asyncpg.Pool, item: Item) -> Answer:
        """The item's answer; the group's exception when its statement failed."""
        answered: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        queue = self._queues.get(id(pool))
        if queue is None:
            queue = self._queues[id(pool)] = _Queue()
            _writers.add(task := asyncio.create_task(self._drain(pool, queue)))
            task.add_done_callback(_writers.discard)
        queue.waiting.append((item, answered))
        # Shielded: a request that goes away does not cancel its neighbours' statement.
        return await asyncio.shield(answered)

    async def _drain(self, pool: asyncpg.Pool, queue: _Queue[Item, Answer]) -> None:
        group: list[tuple[Item, asyncio.Future[Answer]]] = []
        try:
            while queue.waiting:
                group, queue.waiting = queue.waiting[:MAX_GROUP], queue.waiting[MAX_GROUP:]
                try:
                    async with pool.acquire() as con:
                        answers = await self._run(con, [item for item, _ in group])
                except Exception as exc:
                    _fail(group, exc)
                else:
                    for (_, answered), answer in zip(group, answers, strict=True):
                        answered.set_result(answer)
        finally:  # cancelled (shutdown): nobody waits for ever
            del self._queues[id(pool)]
            _fail(group + queue.waiting, asyncio.CancelledError())


def _fail(group: Sequence[tuple[object, asyncio.Future[Any]]], exc: BaseException) -> None:
    for _, answered in group:
        if not answered.done():
            answered.set_exception(exc)
            answered.exception()  # retrieved: a caller that went away logs no warning


# The running groups' tasks (the loop keeps only weak references to tasks).
_writers: set[asyncio.Task[None]] = set()
