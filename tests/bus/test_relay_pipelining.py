"""The relay pipelines each batch; a failure in the middle of one neither reorders nor doubles
events in the stream (bus/relay.py's docstring)."""

from __future__ import annotations

import asyncio
import json
import uuid

import asyncpg
import nats
import pytest

from bus import relay
from bus.events import DOCTOR_UPDATED
from bus.nats import Bus
from bus.outbox import emit
from bus.relay import BatchStopped, publish_in_order, publish_pending
from server import clock

pytestmark = pytest.mark.any_hour


async def _emit(pool: asyncpg.Pool, count: int) -> list[str]:
    """`count` events, one transaction each; their ids in outbox order."""
    ids = []
    for _ in range(count):
        async with pool.acquire() as con, con.transaction():
            fields = {"doctor_id": str(uuid.uuid4())}
            envelope = await emit(con, DOCTOR_UPDATED, "doctor:x", fields, at=clock.now())
            ids.append(str(envelope.id))
    return ids


async def _stream_ids(bus: Bus) -> list[str]:
    """Every event id in the stream, in stream order."""
    info = await bus.js.stream_info(bus.stream)
    ids = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        message = await bus.js.get_msg(bus.stream, seq)
        assert message.data is not None
        ids.append(json.loads(message.data)["id"])
    return ids


async def _unsent(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM bus.outbox WHERE published_at IS NULL"))


def _lose_publish(bus: Bus, lost: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The `lost`-th publish (from 0) of the batch never reaches NATS, as with a connection
    that drops under it; the ones after it are sent."""
    real = bus.js.publish_async
    calls = 0

    async def publish_async(*args: object, **kwargs: object) -> asyncio.Future[object]:
        nonlocal calls
        calls += 1
        if calls - 1 == lost:
            return asyncio.get_running_loop().create_future()  # no answer ever comes
        return await real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(bus.js, "publish_async", publish_async)


async def test_a_publish_lost_mid_batch_lets_no_later_event_overtake_it(
    pool: asyncpg.Pool, bus: Bus, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await _emit(pool, 10)
    monkeypatch.setattr(relay, "ACK_TIMEOUT_S", 0.5)
    _lose_publish(bus, 4, monkeypatch)
    with pytest.raises(BatchStopped):
        await publish_pending(pool, bus, clock.now)
    # Events 5.. reached JetStream after the lost one and were refused, not stored before it.
    assert await _stream_ids(bus) == ids[:4]
    assert await _unsent(pool) == 6
    monkeypatch.undo()
    assert await publish_pending(pool, bus, clock.now) == 6
    assert await _stream_ids(bus) == ids
    assert await _unsent(pool) == 0


async def test_a_batch_published_but_not_marked_is_stored_once_and_in_order(
    pool: asyncpg.Pool, bus: Bus
) -> None:
    ids = await _emit(pool, 8)
    rows = await pool.fetch(
        "SELECT seq, id, type, occurred_at, actor, subject, data, version FROM bus.outbox"
        " ORDER BY seq LIMIT 5"
    )
    # A relay that died after JetStream acknowledged these, before its transaction committed.
    assert await publish_in_order(bus, list(rows)) == (5, None)
    assert await publish_pending(pool, bus, clock.now) == 8
    # The five again came back as duplicates (dedup is checked before the expected last id).
    assert await _stream_ids(bus) == ids
    assert await _unsent(pool) == 0


async def test_an_event_nats_refuses_to_send_holds_back_the_later_ones_and_leaks_nothing(
    pool: asyncpg.Pool, bus: Bus
) -> None:
    first = await _emit(pool, 2)
    (too_big,) = await _emit(pool, 1)
    # Larger than the server's max_payload: nats-py raises before it sends.
    await pool.execute(
        "UPDATE bus.outbox SET data = data || jsonb_build_object('blob', repeat('x', $2))"
        " WHERE id = $1",
        uuid.UUID(too_big),
        bus.nc.max_payload,
    )
    await _emit(pool, 2)
    for _ in range(2):
        with pytest.raises(BatchStopped) as stopped:
            await publish_pending(pool, bus, clock.now)
        assert isinstance(stopped.value.__cause__, nats.errors.MaxPayloadError)
    assert await _stream_ids(bus) == first
    assert await _unsent(pool) == 3
    assert bus.js.publish_async_pending() == 0  # no slot of nats-py's held by the failures


async def test_a_foreign_publish_inside_a_batch_holds_back_the_rest_in_order(
    pool: asyncpg.Pool, bus: Bus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Something else stores a message in the stream while a batch is in flight: the events
    sent after it expect a predecessor that is no longer the last message, so they are refused
    and published by the next batch, after the foreign one; none is lost, none doubled."""
    ids = await _emit(pool, 10)
    real = bus.js.publish_async
    calls = 0
    foreign = str(uuid.uuid4())

    async def publish_async(*args: object, **kwargs: object) -> asyncio.Future[object]:
        nonlocal calls
        calls += 1
        ack = await real(*args, **kwargs)  # type: ignore[arg-type]
        if calls == 3:
            await ack  # the third is stored, then the foreign message lands after it
            body = json.dumps({"id": foreign}).encode()
            await bus.js.publish(
                bus.subject(DOCTOR_UPDATED), body, headers={"Nats-Msg-Id": foreign}
            )
        return ack

    monkeypatch.setattr(bus.js, "publish_async", publish_async)
    with pytest.raises(BatchStopped):
        await publish_pending(pool, bus, clock.now)
    monkeypatch.undo()
    assert await _unsent(pool) == 7
    assert await publish_pending(pool, bus, clock.now) == 7
    assert await _stream_ids(bus) == [*ids[:3], foreign, *ids[3:]]
    assert await _unsent(pool) == 0
