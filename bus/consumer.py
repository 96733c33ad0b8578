"""Durable JetStream consumers whose handlers run at most once per event (per consumer name).

Idempotent consumers record the event id in bus.handled_events in the same transaction as the
handler's own writes, so a redelivery after a crash is acknowledged and skipped.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

import asyncpg
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import ConsumerConfig, DeliverPolicy

from bus.events import Envelope
from bus.nats import Bus

log = logging.getLogger(__name__)


def raise_if_cancelling() -> None:
    """Re-raise a cancellation that an inner await swallowed.

    On Python 3.11, asyncio.wait_for returns the result instead of raising when its future
    completes in the same loop turn as the cancel (gh-86296); nats-py's next_msg and our own
    waits go through it, so a stop that lands while events arrive is lost unless loops check.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


# The server's one clock (server.clock.now), handed in: bus imports nothing from server.
Clock = Callable[[], datetime]
TransactionalHandler = Callable[[asyncpg.Connection, Envelope], Awaitable[None]]
Handler = Callable[[Envelope], Awaitable[None]]


async def _mark_handled(
    con: asyncpg.Connection, consumer: str, envelope: Envelope, now: datetime
) -> bool:
    inserted = await con.fetchval(
        """INSERT INTO bus.handled_events (consumer, event_id, handled_at) VALUES ($1, $2, $3)
           ON CONFLICT DO NOTHING RETURNING true""",
        consumer,
        envelope.id,
        now,
    )
    return bool(inserted)


async def run_consumer(
    bus: Bus,
    name: str,
    handler: Handler,
    event_types: frozenset[str] | None = None,
    deliver_new_only: bool = False,
    batch: int = 50,
) -> None:
    """Forever: fetch from the durable consumer `name`, call handler, ack. Retries on failure."""
    config = ConsumerConfig(
        deliver_policy=DeliverPolicy.NEW if deliver_new_only else DeliverPolicy.ALL,
        ack_wait=30,
    )
    while True:
        try:
            sub = await bus.js.pull_subscribe(
                f"{bus.prefix}.>", durable=name, stream=bus.stream, config=config
            )
            break
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("consumer subscribe retrying", extra={"consumer": name, "error": repr(exc)})
            await asyncio.sleep(1)
    # Unsubscribe on the way out so no pull request outlives the consumer.
    try:
        while True:
            raise_if_cancelling()
            try:
                msgs = await sub.fetch(batch, timeout=1)
            except (NatsTimeout, TimeoutError):
                # On 3.11 nats-py can also turn our cancellation into a timeout.
                raise_if_cancelling()
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("consumer fetch retrying", extra={"consumer": name, "error": repr(exc)})
                await asyncio.sleep(0.5)
                continue
            for msg in msgs:
                raise_if_cancelling()  # unacked messages are redelivered to the next run
                envelope = Envelope.model_validate(json.loads(msg.data))
                if event_types is None or envelope.type in event_types:
                    try:
                        await handler(envelope)
                    except asyncio.CancelledError:
                        raise
                    except Exception:
                        log.exception("consumer handler failed", extra={"consumer": name})
                        await msg.nak(delay=1)
                        continue
                await msg.ack()
    finally:
        try:
            await sub.unsubscribe()
        except Exception:  # connection already closed
            pass


def idempotent(
    pool: asyncpg.Pool, consumer: str, handler: TransactionalHandler, now: Clock
) -> Handler:
    """Wrap a transactional handler so each event id is applied once for this consumer (handled
    at `now()`, the server's clock)."""

    async def handle(envelope: Envelope) -> None:
        async with pool.acquire() as con, con.transaction():
            if await _mark_handled(con, consumer, envelope, now()):
                await handler(con, envelope)

    return handle
