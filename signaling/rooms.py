"""Reaching call participants: emit to one socket (on any node, through the client manager)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from realtime.protocol import CONSULT_NS
from signaling.protocol import CALL_ENDED

if TYPE_CHECKING:
    from realtime.hub import Realtime

log = logging.getLogger(__name__)


async def emit_to(hub: Realtime, sid: str, event: str, payload: dict[str, Any]) -> None:
    # A socket is also a room named by its sid, so this reaches it whichever node holds it.
    await hub.sio.emit(event, payload, to=sid, namespace=CONSULT_NS)


async def announce_ended(hub: Realtime, sids: Iterable[str], payload: dict[str, Any]) -> None:
    """Tell the sockets still in an ended call to hang up."""
    for sid in sids:
        try:
            await emit_to(hub, sid, CALL_ENDED, payload)
        except Exception:  # a socket gone meanwhile must not fail the end itself
            log.warning("could not announce the end of a call", exc_info=True)
