"""The Socket.IO server of one node: built by the app factory, run by the app lifespan.

Design note: docs/realtime.md ("Delivery across nodes"). Deltas driven by NATS events reach
every node (each node has its own durable consumer) and are emitted to this node's sockets
only (`ignore_queue=True`); emits that start on one node (chat, notify_agenda, notify_user) go
through the client manager, i.e. Redis when configured, so they reach sockets on every node.
Each client therefore gets each message once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import socketio

from realtime.agenda import AgendaChannel, agenda_room
from realtime.auth import SessionWatch
from realtime.availability import AvailabilityChannel
from realtime.consult import ConsultChannel, ConsultExtension
from realtime.fanout import close_node_consumer, open_node_consumer, run_fanout
from realtime.lean_sockets import LeanServer
from realtime.notifications import NotificationsChannel, user_room
from realtime.protocol import AGENDA_NS, MAX_FRAME_BYTES, NOTIFICATION, NOTIFICATIONS_NS
from realtime.protocol import Notification as NotificationModel
from realtime.redis_manager import ResyncingRedisManager
from realtime.watchers import Watchers
from server.crypto import FieldCipher
from server.engines import Engines
from server.settings import Settings
from server.tasks import stop_tasks

log = logging.getLogger(__name__)


class Realtime:
    """AsyncServer + its client manager + the four channels; `asgi` is mounted at /socket.io."""

    def __init__(
        self, settings: Settings, consult_extensions: Sequence[ConsultExtension] = ()
    ) -> None:
        """`consult_extensions` add events to /consult (server/app.py passes signaling's)."""
        self.settings = settings
        self.node_id = uuid.uuid4().hex[:12]
        self.sio = LeanServer(
            async_mode="asgi",
            client_manager=self._client_manager(settings),
            max_http_buffer_size=MAX_FRAME_BYTES,
            logger=False,
            engineio_logger=False,
        )
        # socketio_path=None: the app's Mount("/socket.io") already routed the request here.
        self.asgi = socketio.ASGIApp(self.sio, socketio_path=None)
        # Websockets skip ASGIApp and AsyncServer.handle_request (two frames held per open
        # socket): the manager is initialized in `running`, which is all the latter adds.
        self.websocket_asgi = self.sio.eio.handle_request
        self.sessions = SessionWatch(self.sio)
        self.watchers = Watchers()
        self.cipher = FieldCipher(settings)
        self.availability = AvailabilityChannel(self)
        self.agenda = AgendaChannel(self)
        self.notifications = NotificationsChannel(self)
        self.consult = ConsultChannel(self, list(consult_extensions))
        for channel in (self.availability, self.agenda, self.notifications, self.consult):
            self.sio.register_namespace(channel)
        self._engines: Engines | None = None

    def _client_manager(self, settings: Settings) -> socketio.AsyncManager:
        if settings.redis_url:
            # Nodes of one deployment share the channel; the subject prefix already names it.
            channel = f"{settings.nats_subject_prefix}.socketio"
            return ResyncingRedisManager(settings.redis_url, channel, self._after_fanout_outage)
        return socketio.AsyncManager()

    async def _after_fanout_outage(self) -> None:
        # Of what travels through Redis, chat (messages, receipts) is stored and can be caught
        # up; agenda and notification emits are not replayed (docs/realtime.md).
        await self.consult.resync_all()

    @property
    def engines(self) -> Engines:
        if self._engines is None:
            raise RuntimeError("realtime is not running (outside the app lifespan)")
        return self._engines

    @asynccontextmanager
    async def running(self, engines: Engines) -> AsyncIterator[None]:
        """Bind the engines, start the manager, the fan-out consumer and the session sweep."""
        self._engines = engines
        if not self.sio.manager_initialized:  # else python-socketio does it at the 1st connect
            self.sio.manager_initialized = True
            self.sio.manager.initialize()
        consumer = f"realtime-{self.node_id}"
        await open_node_consumer(engines.bus, consumer)
        tasks = [
            asyncio.create_task(run_fanout(self, engines.bus, consumer)),
            asyncio.create_task(
                self.sessions.sweep_forever(engines, self.settings.socket_session_check_s)
            ),
        ]
        try:
            yield
        finally:
            await stop_tasks(tasks)
            await self.availability.close()
            await self.sessions.close()
            await self._close_manager()
            await close_node_consumer(engines.bus, consumer)
            self._engines = None

    async def _close_manager(self) -> None:
        await self.sio.shutdown()
        manager: Any = self.sio.manager
        listener = getattr(manager, "thread", None)
        if isinstance(listener, asyncio.Task):
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
        for connection in (getattr(manager, "pubsub", None), getattr(manager, "redis", None)):
            if connection is not None:
                await connection.aclose()

    async def end_sessions(self, session_ids: Iterable[uuid.UUID]) -> int:
        """server.admin.ports.LiveSessions: close the sockets of just-revoked sessions."""
        return await self.sessions.end_sessions(set(session_ids), "revoked")

    async def end_access(self, revoked: Iterable[tuple[uuid.UUID, uuid.UUID]]) -> int:
        """server.patients.ports.LiveAccess: (user id, patient id) pairs whose link was just
        revoked leave that patient's /consult rooms on this node."""
        return sum([await self.consult.end_access(user, patient) for user, patient in revoked])

    def connected(self) -> dict[str, int]:
        """server.admin.ports.LiveSessions: sockets connected to this node per namespace."""
        rooms: dict[str, dict[Any, Any]] = getattr(self.sio.manager, "rooms", {})
        namespaces = (ch.namespace for ch in self._channels())
        return {ns: len(rooms.get(ns, {}).get(None, {})) for ns in namespaces}

    def _channels(self) -> tuple[socketio.AsyncNamespace, ...]:
        return (self.availability, self.agenda, self.notifications, self.consult)

    async def notify_agenda(
        self, doctor_id: uuid.UUID, event: str, payload: dict[str, Any]
    ) -> None:
        """Send `event` to the doctor's /agenda sockets on every node (e.g. waiting-room news)."""
        await self.sio.emit(event, payload, room=agenda_room(doctor_id), namespace=AGENDA_NS)

    async def notify_user(self, user_id: uuid.UUID, notification: NotificationModel) -> None:
        """Send one in-app notification to the user's /notifications sockets on every node."""
        await self.sio.emit(
            NOTIFICATION,
            notification.model_dump(mode="json"),
            room=user_room(user_id),
            namespace=NOTIFICATIONS_NS,
        )
