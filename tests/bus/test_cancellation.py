"""A stop reaches the relay and the consumers even while events keep arriving (issue #25).

On Python 3.11 asyncio.wait_for swallows a cancel that lands as its future completes; nats-py's
fetch and the relay's wake-up wait both went through it, so a shutdown during a consumer's
catch-up or under write load could be lost and the process never stopped. Cancels here land at
random moments of a consumer's catch-up (event by event, and in batches), and at the relay's
wake-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import uuid

import pytest

from bus.consumer import run_batch_consumer, run_consumer
from bus.events import DOCTOR_UPDATED, Envelope
from bus.nats import Bus, connect_bus
from bus.relay import wait_for_notify
from server import clock
from server.settings import Settings

BACKLOG = 1500
ATTEMPTS = 25
STOP_BOUND_S = 10


async def _fill_stream(bus: Bus, count: int) -> None:
    for _ in range(count):
        doctor_id = str(uuid.uuid4())
        envelope = Envelope(
            type=DOCTOR_UPDATED,
            subject=f"doctor:{doctor_id}",
            data={"doctor_id": doctor_id},
            occurred_at=clock.now(),
        )
        await bus.js.publish(
            bus.subject(envelope.type), json.dumps(envelope.model_dump(mode="json")).encode()
        )


@pytest.mark.parametrize("batches", [False, True], ids=["per-event", "batches"])
async def test_a_consumer_cancelled_during_catch_up_handles_no_further_event(
    settings: Settings, batches: bool
) -> None:
    rng = random.Random(25)
    async with connect_bus(
        settings.nats_url or "", settings.nats_stream, settings.nats_subject_prefix
    ) as bus:
        await _fill_stream(bus, BACKLOG)
        late: list[Envelope] = []
        stopped = asyncio.Event()

        async def handle(envelope: Envelope) -> None:
            await handle_batch([envelope])

        async def handle_batch(envelopes: list[Envelope]) -> None:
            if stopped.is_set():
                late.extend(envelopes)
            await asyncio.sleep(0)

        for attempt in range(ATTEMPTS):
            stopped.clear()
            name = f"catch-up-{attempt}"
            consumer = asyncio.create_task(
                run_batch_consumer(bus, name, handle_batch) if batches
                else run_consumer(bus, name, handle)
            )  # fmt: skip
            await asyncio.sleep(rng.uniform(0.02, 0.3))
            stopped.set()
            consumer.cancel()
            async with asyncio.timeout(STOP_BOUND_S):
                with contextlib.suppress(asyncio.CancelledError):
                    await consumer
            assert not late, f"attempt {attempt}: {len(late)} events handled after the cancel"


async def test_a_stop_that_lands_as_the_relay_wakes_up_is_not_lost() -> None:
    wake = asyncio.Event()
    waiting = asyncio.create_task(wait_for_notify(wake, 5))
    await asyncio.sleep(0)
    wake.set()  # a NOTIFY arrives...
    waiting.cancel()  # ...in the loop turn the stop comes
    with pytest.raises(asyncio.CancelledError):
        await waiting
