"""python-socketio's Redis manager, made to come back quickly and say when it missed something.

Upstream's listener (`AsyncRedisManager._redis_listen_with_retries`) doubles its wait after each
failed reconnect, up to 60 s: after a 40 s Redis outage it came back 23 s after Redis did, and
every emit published by other nodes meanwhile (chat messages, receipts) was lost for this
node's sockets. Here the listener retries at a fixed short interval, redis-py's own silent
reconnect is turned off (it would re-subscribe without telling us), and once subscribed again
after a failure the manager calls `on_resubscribed`, which tells this node's sockets to catch up
from what is stored (docs/realtime.md, `resync`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import socketio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

log = logging.getLogger(__name__)

# Short enough that a client waits about this long after Redis returns; one cheap connection
# attempt per interval while Redis is down.
RETRY_S = 0.5


class ResyncingRedisManager(socketio.AsyncRedisManager):  # type: ignore[misc]
    def __init__(
        self,
        url: str,
        channel: str,
        on_resubscribed: Callable[[], Awaitable[None]],
        retry_s: float = RETRY_S,
    ) -> None:
        # No retries inside redis-py: a dropped connection must reach the listener below.
        super().__init__(url, channel=channel, redis_options={"retry": Retry(NoBackoff(), 0)})
        self.on_resubscribed = on_resubscribed
        self.retry_s = retry_s
        self.listening = False  # subscribed and reading (tests wait on it)

    async def _redis_listen_with_retries(self) -> AsyncIterator[Any]:
        missed = False
        while True:
            pubsub = None
            try:
                self._redis_connect()
                pubsub = self.pubsub  # _publish may replace self.pubsub; this one is ours
                await pubsub.subscribe(self.channel)
                self.listening = True
                if missed:
                    log.warning("redis fan-out back: asking this node's sockets to resync")
                    await self._resync()
                async for message in pubsub.listen():
                    yield message
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.listening or not missed:
                    log.error("redis fan-out lost, retrying", extra={"error": repr(exc)})
                self.listening = False
                missed = True
                await _close_quietly(pubsub)
                await asyncio.sleep(self.retry_s)

    async def _resync(self) -> None:
        try:
            await self.on_resubscribed()
        except Exception:  # the listener must go on whatever a socket does
            log.exception("resync after redis outage failed")


async def _close_quietly(pubsub: Any) -> None:
    if pubsub is not None:
        try:
            await pubsub.aclose()
        except Exception:  # its connection is already gone
            pass
