"""python-socketio with a smaller Engine.IO socket: what an idle websocket costs the node.

Upstream python-engineio (4.x) keeps per websocket: an asyncio.Queue (four deques and an Event),
a writer task draining it, a task sleeping until the next ping, a task per `asyncio.wait_for`
on the queue and another on each incoming frame, and a WSGI-style environ holding a class
object made per request. Idle, that is most of a socket's memory (bench/idle_sockets.py). Here
the same protocol and behaviour with: packets sent straight to the websocket once upgraded, one
pinger task for all sockets, reads without timers (engineio's service task still closes a
socket whose client stops answering pings), a list and a future as the queue (still used while
long-polling), and an environ of what engineio and Markini read. Long-polling is upstream's.

Written against python-engineio 4.12 .. 4.x (pyproject.toml pins the major version): the
websocket handler below keeps the steps of upstream's `AsyncSocket._websocket_handler` (upgrade
probe, receive loop, close); tests/realtime/test_lean_sockets.py covers what it changes.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import defaultdict
from typing import Any

import engineio
import socketio
from engineio import async_socket, exceptions, packet
from engineio.async_drivers import asgi as engineio_asgi

from server.mailbox import Mailbox


class LeanSocket(async_socket.AsyncSocket):  # type: ignore[misc]
    """Once on its websocket, a socket sends straight to it: no writer task, no queue.

    No __slots__: instances are made as AsyncSocket and then given this class.
    """

    _ws: Any = None  # the websocket, once upgraded (until then packets wait in the queue)
    # Set by upstream's __init__ (typed here for mypy).
    server: Any
    queue: Any
    last_ping: float | None
    connected: bool

    def schedule_ping(self) -> None:
        # Upstream starts a task per socket that sleeps ping_interval; one pinger serves all.
        if self.last_ping:
            self.last_ping = None
            self.server.pinger.schedule(self, self.server.ping_interval)

    async def ping(self) -> None:
        if not self.closing and not self.closed:
            self.last_ping = time.time()
            await self.send(packet.Packet(packet.PING))

    async def send(self, pkt: packet.Packet) -> None:
        ws = self._ws
        if ws is None:
            await super().send(pkt)
            return
        if not await self.check_ping_timeout():
            return
        # Sends that find the transport writable write at once, in call order (the ack before
        # what a handler schedules after it, realtime/availability.py); others wait in order.
        try:
            await ws.send(pkt.encode())
        except Exception:  # the client is gone: the reader sees it and ends the socket
            pass

    async def close(self, wait: bool = True, abort: bool = False, reason: Any = None) -> None:
        await super().close(wait=wait, abort=abort, reason=reason)
        ws = self._ws
        if ws is not None and self.closed:
            # Closed from this side (a ping timeout, a server disconnect): end the websocket
            # too, which ends the reader's wait (upstream's reader had a timer for this).
            self._ws = None
            await ws.close()

    async def _websocket_handler(self, ws: Any) -> None:
        limit = self.server.max_http_buffer_size

        async def websocket_wait() -> Any:
            data = await ws.wait()
            if data and len(data) > limit:
                raise ValueError("packet is too large")
            return data

        if self.connected and not await self._finish_upgrade(ws, websocket_wait):
            return
        self.connected = True
        self.upgraded = True
        try:
            await self._flush_queue(ws)
        except Exception:
            await self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)
            return
        self._ws = ws
        # No timer per read: engineio's service task closes a socket whose client stopped
        # answering pings (check_ping_timeout), and that close ends this wait.
        while True:
            try:
                received = await websocket_wait()
            except (Exception, asyncio.CancelledError):  # closed, too large
                break
            if received is None:  # closed by the client
                break
            try:
                await self.receive(packet.Packet(encoded_packet=received))
            except exceptions.UnknownPacketError:
                pass
            except exceptions.SocketIsClosedError:
                break
            except Exception:
                self.server.logger.exception("Unknown receive error")
        self._ws = None
        await self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)
        await ws.close()

    async def _flush_queue(self, ws: Any) -> None:
        """Send what was queued before the websocket took over (the OPEN packet, the connect
        answer, sends during an upgrade); returns with the queue empty, so nothing queued
        can pass a later direct send."""
        while True:
            try:
                pkt = self.queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            self.queue.task_done()
            if pkt is not None:
                await ws.send(pkt.encode())

    async def _finish_upgrade(self, ws: Any, websocket_wait: Any) -> bool:
        """Polling -> websocket: the probe ping, then the UPGRADE packet (as upstream)."""
        self.upgrading = True  # hold packet sends during the upgrade
        try:
            probe = packet.Packet(encoded_packet=await websocket_wait())
            if probe.packet_type != packet.PING or probe.data != "probe":
                return False
            await ws.send(packet.Packet(packet.PONG, data="probe").encode())
            await self.queue.put(packet.Packet(packet.NOOP))  # end the pending poll
            upgrade = packet.Packet(encoded_packet=await websocket_wait())
            return bool(upgrade.packet_type == packet.UPGRADE)
        except OSError:
            return False
        finally:
            self.upgrading = False


# What engineio and socketio read from a websocket's environ (origin check, upgrade, query),
# and the ASGI scope (client address and headers, read by the audit records).
_KEPT_KEYS = frozenset(
    {
        "REQUEST_METHOD", "QUERY_STRING", "PATH_INFO", "REMOTE_ADDR", "wsgi.url_scheme",
        "HTTP_HOST", "HTTP_ORIGIN", "HTTP_UPGRADE", "HTTP_CONNECTION",
        "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST",
        "asgi.receive", "asgi.send", "asgi.scope",
    }
)  # fmt: skip


async def _translate_request(scope: Any, receive: Any, send: Any) -> dict[str, Any]:
    environ: dict[str, Any] = await engineio_asgi.translate_request(scope, receive, send)
    if scope["type"] != "websocket":
        return environ
    # Kept for the socket's lifetime: not every header twice, the WSGI constants nor the body
    # reader (an instance of a class made per request).
    return {key: value for key, value in environ.items() if key in _KEPT_KEYS}


class _Sockets(dict[str, Any]):
    """engineio's sid -> socket table: each new socket becomes a LeanSocket as it is stored
    (upstream builds its AsyncSocket in `_handle_connect`, before any await, then stores it)."""

    def __setitem__(self, sid: str, socket: Any) -> None:
        if type(socket) is async_socket.AsyncSocket:
            socket.__class__ = LeanSocket
        super().__setitem__(sid, socket)


class Pinger:
    """Pings the sockets due each second from one task (a timer per socket costs ~0.5 KiB);
    each ping is sent by a short task of its own, so one stalled client delays no other."""

    def __init__(self) -> None:
        self._due: dict[int, list[LeanSocket]] = defaultdict(list)
        self._task: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()

    def schedule(self, socket: LeanSocket, delay_s: float) -> None:
        """Ping `socket` in delay_s seconds, rounded up to the next whole second."""
        self._due[math.ceil(time.monotonic() + delay_s)].append(socket)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while self._due:
            await asyncio.sleep(1 - time.monotonic() % 1)
            now = time.monotonic()
            loop = asyncio.get_running_loop()
            for second in sorted(s for s in self._due if s <= now):
                for socket in self._due.pop(second):
                    task = loop.create_task(socket.ping())
                    self._sending.add(task)
                    task.add_done_callback(self._sending.discard)

    async def stop(self) -> None:
        self._due.clear()
        tasks = [*self._sending, *([self._task] if self._task else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class LeanEngineIO(engineio.AsyncServer):  # type: ignore[misc]
    _async: dict[str, Any]  # upstream's async driver table (set by its __init__)

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.pinger = Pinger()
        self._async = {**self._async, "translate_request": _translate_request}

    @property
    def sockets(self) -> _Sockets:
        return self._sockets

    @sockets.setter
    def sockets(self, table: dict[str, Any]) -> None:  # upstream assigns {} (init, disconnect)
        self._sockets = _Sockets(table)

    def create_queue(self, *args: Any, **kwargs: Any) -> Mailbox:
        return Mailbox()

    async def shutdown(self) -> None:
        await super().shutdown()
        await self.pinger.stop()


class LeanServer(socketio.AsyncServer):  # type: ignore[misc]
    """socketio.AsyncServer on LeanEngineIO (same arguments, same behaviour)."""

    def _engineio_server_class(self) -> type:
        return LeanEngineIO
