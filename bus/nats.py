"""NATS connection and the JetStream stream that carries every domain event."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import BadRequestError

log = logging.getLogger(__name__)

# JetStream drops a re-published event id seen within this window (relay retries after a crash).
DEDUP_WINDOW_S = 600


@dataclass(frozen=True)
class Bus:
    nc: Client
    js: JetStreamContext
    stream: str
    prefix: str

    def subject(self, event_type: str) -> str:
        return f"{self.prefix}.{event_type}"


@asynccontextmanager
async def connect_bus(url: str, stream: str, prefix: str) -> AsyncIterator[Bus]:
    nc = await nats.connect(
        url,
        name="markini",
        max_reconnect_attempts=-1,  # keep trying forever: the relay buffers in PostgreSQL meanwhile
        reconnect_time_wait=0.5,
        allow_reconnect=True,
    )
    js = nc.jetstream()
    subjects = [f"{prefix}.>"]
    try:
        await js.add_stream(name=stream, subjects=subjects, duplicate_window=DEDUP_WINDOW_S)
    except BadRequestError:
        await js.update_stream(name=stream, subjects=subjects, duplicate_window=DEDUP_WINDOW_S)
    try:
        yield Bus(nc=nc, js=js, stream=stream, prefix=prefix)
    finally:
        # Not drain(): by now the lifespan has cancelled every publisher and consumer, and drain
        # waits out in-flight pull requests for seconds.
        await nc.close()
