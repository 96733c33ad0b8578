"""Small stand-ins for asyncio.Queue and asyncio.Event, for state held by every open socket."""

from __future__ import annotations

import asyncio
from typing import Any


class Mailbox:
    """The part of asyncio.Queue that a websocket's one reader and its writers use, in a list
    and a future or two: an asyncio.Queue is four deques and an Event (~3 KiB), held by every
    idle socket (twice: uvicorn's incoming queue, Engine.IO's outgoing one)."""

    __slots__ = ("_idle", "_items", "_unfinished", "_waiter")

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._waiter: asyncio.Future[None] | None = None
        self._idle: asyncio.Future[None] | None = None
        self._unfinished = 0

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        self._unfinished += 1
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def put(self, item: Any) -> None:
        self.put_nowait(item)

    def empty(self) -> bool:
        return not self._items

    def get_nowait(self) -> Any:
        if not self._items:
            raise asyncio.QueueEmpty
        return self._items.pop(0)

    async def get(self) -> Any:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.pop(0)

    def task_done(self) -> None:
        self._unfinished -= 1
        if self._unfinished <= 0 and self._idle is not None and not self._idle.done():
            self._idle.set_result(None)

    async def join(self) -> None:
        if self._unfinished > 0:
            if self._idle is None or self._idle.done():
                self._idle = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._idle)


class Gate:
    """asyncio.Event's wait/set/clear/is_set without its deque: one future while closed."""

    __slots__ = ("_open", "_waiter")

    def __init__(self) -> None:
        self._open = False
        self._waiter: asyncio.Future[None] | None = None

    def is_set(self) -> bool:
        return self._open

    def set(self) -> None:
        self._open = True
        if self._waiter is not None:
            if not self._waiter.done():
                self._waiter.set_result(None)
            self._waiter = None

    def clear(self) -> None:
        self._open = False

    async def wait(self) -> bool:
        while not self._open:
            if self._waiter is None:
                self._waiter = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._waiter)
        return True
