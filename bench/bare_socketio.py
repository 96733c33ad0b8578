"""The anchor of the realtime benches: python-socketio on a bare ASGI server, nothing of Markini.

/availability accepts every socket; `subscribe` (data: {"room": name}) joins a room and acks
{"ok": true}; `POST /emit?room=R&version=N` emits a `slot.delta` shaped like Markini's
(availability_version N, occurred_at now) to that room through the client manager (Redis when
MARKINI_REDIS_URL is set, so every node's sockets get it). BARE_ENGINEIO=lean puts Markini's
smaller Engine.IO socket (realtime/lean_sockets.py) on this bare stack. The benches run it as a
subprocess, from the repository root:

    python -m bench.bare_socketio --port P --server uvicorn-websockets|uvicorn-sansio|...
"""

from __future__ import annotations

import argparse
import os
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import socketio

NS = "/availability"
SERVERS = (
    "uvicorn-websockets",
    "uvicorn-sansio",
    "uvicorn-wsproto",
    "uvicorn-lean",
    "hypercorn",
    "granian",
)


def build_app(lean: bool) -> Any:
    redis_url = os.environ.get("MARKINI_REDIS_URL")
    manager = (
        socketio.AsyncRedisManager(redis_url, channel=f"bare-{os.environ.get('BARE_TAG', '')}")
        if redis_url
        else socketio.AsyncManager()
    )
    server_class = socketio.AsyncServer
    if lean:  # Markini's smaller Engine.IO socket (realtime/lean_sockets.py) on the bare stack
        from realtime.lean_sockets import LeanServer

        server_class = LeanServer
    sio = server_class(async_mode="asgi", client_manager=manager)

    @sio.on("connect", namespace=NS)
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        return True

    @sio.on("subscribe", namespace=NS)
    async def subscribe(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        await sio.enter_room(sid, data["room"], namespace=NS)
        return {"ok": True}

    socket_app = socketio.ASGIApp(sio)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/emit":
            query = parse_qs(scope["query_string"].decode())
            now = datetime.now(UTC)
            delta = {  # the shape and size of Markini's slot.delta
                "doctor_id": str(uuid.UUID(int=0)),
                "kind": "booked",
                "slot": {
                    "start": now.isoformat(),
                    "end": now.isoformat(),
                    "visit_type": "in-person",
                },
                "availability_version": int(query["version"][0]),
                "occurred_at": now.isoformat(),
            }
            await sio.emit("slot.delta", delta, room=query["room"][0], namespace=NS)
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        if scope["type"] == "http" and scope["path"] == "/readyz":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})
            return
        await socket_app(scope, receive, send)

    return app


app = build_app(lean=os.environ.get("BARE_ENGINEIO") == "lean")


def serve(server: str, port: int) -> None:
    if server.startswith("uvicorn-"):
        import uvicorn

        from server.websocket import LeanWebSocketProtocol

        ws: Any = {
            "uvicorn-websockets": "websockets",
            "uvicorn-sansio": "websockets-sansio",
            "uvicorn-wsproto": "wsproto",
            "uvicorn-lean": LeanWebSocketProtocol,  # Markini's (server/websocket.py)
        }[server]
        ping = {"ws_ping_interval": None} if server == "uvicorn-lean" else {}
        uvicorn.run(
            app, port=port, ws=ws, ws_per_message_deflate=False, log_level="warning", **ping
        )
    elif server == "hypercorn":
        import asyncio

        from hypercorn.asyncio import serve as hypercorn_serve
        from hypercorn.config import Config

        config = Config()
        config.bind = [f"127.0.0.1:{port}"]
        config.loglevel = "WARNING"
        asyncio.run(hypercorn_serve(app, config))  # type: ignore[arg-type]
    else:
        from granian.constants import Interfaces
        from granian.server import Server

        Server(
            "bench.bare_socketio:app", port=port, interface=Interfaces.ASGI, log_enabled=False
        ).serve()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--server", choices=SERVERS, default="uvicorn-websockets")
    args = parser.parse_args()
    serve(args.server, args.port)
