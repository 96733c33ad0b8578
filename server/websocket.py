"""uvicorn's websocket protocol (websockets-sansio) with less held per open socket.

Upstream keeps the handshake's request and response for the socket's whole life (websockets'
parser generator holds the request too), an asyncio.Queue for incoming events and an
asyncio.Event for flow control; here the handshake's headers are emptied once the socket is
accepted, and the queue and event are a Mailbox and a Gate. Idle sockets are most of a node's
memory (bench/idle_sockets.py). Written against uvicorn 0.35 .. 0.x (pyproject.toml).
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from server.mailbox import Gate, Mailbox


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue: Any = Mailbox()
        self.writable: Any = Gate()
        self.writable.set()

    async def send(self, message: Any) -> None:
        await super().send(message)
        if self.handshake_complete and getattr(self, "response", None) is not None:
            # Read only while answering the handshake (upstream's send, accept branch); the
            # app has them in its scope already.
            self.request.headers.clear()
            self.response.headers.clear()
            self.request: Any = None
            self.response: Any = None


# uvicorn.Config options for Markini's websockets (in server.http11.UVICORN_OPTIONS).
# No permessage-deflate: Socket.IO frames are small JSON, and each compressing socket holds
# ~150 KiB of zlib state. No websocket-level ping: Engine.IO pings every socket and closes those
# that stop answering (realtime/lean_sockets.py).
WEBSOCKET_OPTIONS: dict[str, Any] = {
    "ws": LeanWebSocketProtocol,
    "ws_per_message_deflate": False,
    "ws_ping_interval": None,
}
