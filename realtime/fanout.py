"""Each node's own JetStream consumer of scheduling events (and those the /consult extensions
ask for, e.g. consultation ends), turned into socket emits.

The consumer is durable (it survives a NATS reconnect) and unique to the node: every node sees
every event and emits to its own sockets. A node that dies leaves its consumer behind; JetStream
deletes it after INACTIVE_S without pulls.

JetStream delivers at least once: after a NATS crash it redelivers what it had not recorded as
acknowledged, though we had already emitted it. The node remembers the ids of its recent events
(RecentIds) and emits each one once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import OrderedDict
from typing import TYPE_CHECKING

from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from bus.consumer import run_consumer
from bus.events import PATIENT_PROXY_REVOKED, USER_ROLE_CHANGED, USER_SUSPENDED, Envelope
from bus.nats import Bus
from realtime.agenda import AGENDA_EVENTS, publish_appointment
from realtime.availability import AVAILABILITY_EVENTS, publish_change, slot_change
from realtime.notifications import NOTIFIED_EVENTS, publish_notification
from server.patients.events import ProxyRevoked

if TYPE_CHECKING:
    from realtime.hub import Realtime

log = logging.getLogger(__name__)

# An admin revoked an account's sessions: every node ends its sockets now, not at its next sweep.
SESSION_EVENTS = frozenset({USER_SUSPENDED, USER_ROLE_CHANGED})
# A proxy's link was revoked: every node takes its sockets out of the patient's /consult rooms.
ACCESS_EVENTS = frozenset({PATIENT_PROXY_REVOKED})
# Plus the /consult extensions' bus_events.
FANOUT_EVENTS = (
    AVAILABILITY_EVENTS | AGENDA_EVENTS | SESSION_EVENTS | NOTIFIED_EVENTS | ACCESS_EVENTS
)
ACK_WAIT_S = 30
# Long enough to ride out a network partition, short enough not to pile up dead nodes' consumers.
INACTIVE_S = 3600
# Redeliveries come within ACK_WAIT_S of the first delivery, or just after a NATS restart: far
# fewer events than this pass meanwhile, even at thousands of slot changes a second.
RECENT_EVENT_IDS = 100_000


class RecentIds:
    """The last `size` event ids seen, oldest forgotten first (a bounded LRU set)."""

    def __init__(self, size: int = RECENT_EVENT_IDS) -> None:
        self.size = size
        self._ids: OrderedDict[uuid.UUID, None] = OrderedDict()

    def first_time(self, event_id: uuid.UUID) -> bool:
        """Record `event_id`; False when it was already among the recent ones."""
        if event_id in self._ids:
            self._ids.move_to_end(event_id)
            return False
        self._ids[event_id] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True


async def open_node_consumer(bus: Bus, name: str) -> None:
    """Create the node's consumer now, so no event after startup is missed (new events only)."""
    await bus.js.add_consumer(
        bus.stream,
        ConsumerConfig(
            durable_name=name,
            deliver_policy=DeliverPolicy.NEW,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=ACK_WAIT_S,
            filter_subject=f"{bus.prefix}.>",
            inactive_threshold=INACTIVE_S,
        ),
    )


async def close_node_consumer(bus: Bus, name: str) -> None:
    try:
        await bus.js.delete_consumer(bus.stream, name)
    except Exception:  # NATS gone: the inactivity threshold cleans it up
        log.info("node consumer left for JetStream to expire", extra={"consumer": name})


async def run_fanout(hub: Realtime, bus: Bus, name: str) -> None:
    seen = RecentIds()

    async def handle(envelope: Envelope) -> None:
        if seen.first_time(envelope.id):
            await dispatch(hub, envelope)
        else:
            log.info("redelivered event skipped", extra={"event_id": str(envelope.id)})

    wanted = FANOUT_EVENTS.union(hub.consult.bus_hooks)
    await run_consumer(bus, name, handle, wanted, deliver_new_only=True)


async def dispatch(hub: Realtime, envelope: Envelope) -> None:
    """Emit one event to this node's sockets. Never raises: a redelivery would emit twice."""
    try:
        if envelope.type in AVAILABILITY_EVENTS:
            await publish_change(hub, slot_change(envelope))
        if envelope.type in AGENDA_EVENTS:
            await publish_appointment(hub, envelope)
        if envelope.type in NOTIFIED_EVENTS:
            await publish_notification(hub, envelope)
        if envelope.type in SESSION_EVENTS:
            await hub.sessions.sweep(hub.engines)
        if envelope.type in ACCESS_EVENTS:
            revoked = ProxyRevoked.model_validate(envelope.data)
            await hub.consult.end_access(revoked.user_id, revoked.patient_id)
        for hook in hub.consult.bus_hooks.get(envelope.type, ()):
            await hook(hub, envelope)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("fan-out failed", extra={"event_id": str(envelope.id), "type": envelope.type})
