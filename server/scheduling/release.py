"""Freeing a slot, with a say for other domains: a registered re-holder (the waitlist) may hold
the slot for someone at once, in the same transaction, and then the slot never shows as free:
no slot.released is written (the new hold's slot.held and appointment.created are).

Scheduling knows no re-holder by name (the waitlist sits beside it); the composition root
(server/app.py) registers them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg

from bus import events
from server.scheduling.events import SlotChanged, emit_slot

# Given the freed slot inside the freeing transaction: True when it held the slot again.
Reholder = Callable[[asyncpg.Connection, SlotChanged], Awaitable[bool]]
_REHOLDERS: list[Reholder] = []


def on_release(reholder: Reholder) -> None:
    if reholder not in _REHOLDERS:
        _REHOLDERS.append(reholder)


async def release_slot(con: asyncpg.Connection, freed: SlotChanged, actor: str | None) -> None:
    """Inside the freeing transaction: let a re-holder take the slot, else write slot.released."""
    for reholder in _REHOLDERS:
        if await reholder(con, freed):
            return
    await emit_slot(con, events.SLOT_RELEASED, freed, actor)
