"""Durable JetStream consumers, and idempotent handlers that apply each event at most once per
consumer name.

An idempotent consumer applies a fetched batch in one transaction: one statement records the
batch's event ids in bus.handled_events, and the handler applies the newly recorded ones in the
same transaction, so a redelivery after a crash is acknowledged and skipped, and a busy stream
costs one commit per batch instead of one per event. A batch whose transaction fails is applied
again one event per transaction: a poison event is nak'd alone, the others are applied.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

import asyncpg
from nats.aio.msg import Msg
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
# One event, outside any transaction of ours (e.g. the realtime fan-out).
Handler = Callable[[Envelope], Awaitable[None]]
# A batch of events in stream order, all or nothing: raising means none of it took effect.
BatchHandler = Callable[[list[Envelope]], Awaitable[None]]
# Events newly handled by this consumer, in stream order, inside the transaction recording them.
TransactionalHandler = Callable[[asyncpg.Connection, list[Envelope]], Awaitable[None]]
EventApplier = Callable[[asyncpg.Connection, Envelope], Awaitable[None]]
# What the fetch loop hands a batch of wanted deliveries to; it acks or naks each.
_Process = Callable[[list[tuple[Msg, Envelope]]], Awaitable[None]]


async def run_consumer(
    bus: Bus,
    name: str,
    handler: Handler,
    event_types: frozenset[str] | None = None,
    deliver_new_only: bool = False,
    batch: int = 50,
) -> None:
    """Forever: fetch up to `batch` events from the durable consumer `name`, call handler on
    each and ack it (nak it for a redelivery in 1 s when the handler raises)."""

    async def process(deliveries: list[tuple[Msg, Envelope]]) -> None:
        for msg, envelope in deliveries:
            raise_if_cancelling()  # unacked messages are redelivered to the next run
            await _settle(msg, await _succeeds(handler(envelope), name), name)

    await _consume(bus, name, process, event_types, deliver_new_only, batch)


async def run_batch_consumer(
    bus: Bus,
    name: str,
    handler: BatchHandler,
    event_types: frozenset[str] | None = None,
    batch: int = 50,
) -> None:
    """Forever: fetch up to `batch` events from the durable consumer `name` (from the stream's
    start), hand the wanted ones to handler at once and ack them all. When the batch fails, each
    event is handed alone: the ones that fail again are nak'd (redelivered in 1 s)."""

    async def process(deliveries: list[tuple[Msg, Envelope]]) -> None:
        raise_if_cancelling()
        if len(deliveries) > 1:
            envelopes = [envelope for _, envelope in deliveries]
            if await _succeeds(handler(envelopes), name, "consumer batch failed; one by one now"):
                for msg, _ in deliveries:
                    await _reply(msg.ack(), name)
                return
        for msg, envelope in deliveries:
            raise_if_cancelling()
            await _settle(msg, await _succeeds(handler([envelope]), name), name)

    await _consume(bus, name, process, event_types, False, batch)


async def _succeeds(
    call: Awaitable[None], consumer: str, failure: str = "consumer handler failed"
) -> bool:
    try:
        await call
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception(failure, extra={"consumer": consumer})
        return False
    return True


async def _settle(msg: Msg, handled: bool, consumer: str) -> None:
    await _reply(msg.ack() if handled else msg.nak(delay=1), consumer)


async def _reply(reply: Awaitable[None], consumer: str) -> None:
    """Send an ack, nak or term. A failure (connection lost, nats-py's outbound buffer full) is
    logged, not raised: nothing restarts a consumer task that ends, and JetStream redelivers an
    unacknowledged message after ack_wait anyway (idempotent handlers skip what they applied)."""
    try:
        await reply
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.warning("consumer reply lost", extra={"consumer": consumer, "error": repr(exc)})


async def _consume(
    bus: Bus,
    name: str,
    process: _Process,
    event_types: frozenset[str] | None,
    deliver_new_only: bool,
    batch: int,
) -> None:
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
            wanted: list[tuple[Msg, Envelope]] = []
            for msg in msgs:
                envelope = _envelope(msg, name)
                if envelope is None:
                    await _reply(msg.term(), name)  # no consumer can apply it: never redeliver
                elif event_types is None or envelope.type in event_types:
                    wanted.append((msg, envelope))
                else:
                    await _reply(msg.ack(), name)  # nothing to do for it
            if wanted:
                await process(wanted)
    finally:
        try:
            await sub.unsubscribe()
        except Exception:  # connection already closed
            pass


def _envelope(msg: Msg, consumer: str) -> Envelope | None:
    """The event a stream message carries, or None (logged) when it is no event: published by
    something other than the relay, it would otherwise stop the consumer on every delivery."""
    try:
        return Envelope.model_validate(json.loads(msg.data))
    except ValueError:  # not JSON, or not an Envelope (pydantic's ValidationError is one)
        log.error("stream message is no event; dropped", extra={"consumer": consumer})
        return None


def each(apply: EventApplier) -> TransactionalHandler:
    """A transactional handler that applies `apply` to each event of the batch, in order."""

    async def handle(con: asyncpg.Connection, envelopes: list[Envelope]) -> None:
        for envelope in envelopes:
            await apply(con, envelope)

    return handle


def one_by_one(handler: BatchHandler) -> BatchHandler:
    """A batch handler that hands `handler` the batch's events one at a time, in order: with an
    idempotent handler, one transaction per event (for work that must not share one)."""

    async def handle(envelopes: list[Envelope]) -> None:
        for envelope in envelopes:
            raise_if_cancelling()
            await handler([envelope])

    return handle


def idempotent(
    pool: asyncpg.Pool, consumer: str, handler: TransactionalHandler, now: Clock
) -> BatchHandler:
    """Wrap a transactional handler so each event id is applied once for this consumer: one
    transaction records the batch's ids (handled at `now()`, the server's clock) and hands the
    ones not recorded before to handler, in stream order."""

    async def handle(envelopes: list[Envelope]) -> None:
        async with pool.acquire() as con, con.transaction():
            fresh = await _mark_handled(con, consumer, [e.id for e in envelopes], now())
            todo = []
            for envelope in envelopes:
                if envelope.id in fresh:
                    fresh.discard(envelope.id)  # one envelope per id, if the batch repeats one
                    todo.append(envelope)
            if todo:
                await handler(con, todo)

    return handle


async def _mark_handled(
    con: asyncpg.Connection, consumer: str, ids: list[uuid.UUID], now: datetime
) -> set[uuid.UUID]:
    """Record the ids as handled; return those that were not yet."""
    rows = await con.fetch(
        """INSERT INTO bus.handled_events (consumer, event_id, handled_at)
           SELECT $1, event_id, $3 FROM unnest($2::uuid[]) AS event_id
           ON CONFLICT DO NOTHING RETURNING event_id""",
        consumer,
        ids,
        now,
    )
    return {row["event_id"] for row in rows}
