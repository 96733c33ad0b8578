"""A scripted call participant on aiortc: what a browser does, for tests, benches and demos.

It goes through the public surface only: POST .../join (or GET .../token to rejoin), /consult
with the access token, `call.join` with the join token, then offer / answer / trickled ICE
relayed by the server. Perfect negotiation as docs/realtime.md says: the doctor (impolite) makes
the offer once the patient is admitted; aiortc cannot roll back, so the polite patient answers a
colliding offer with a fresh connection instead. A `call.peer_joined` that is not a resume means
the other side has a new connection: drop ours, and the doctor offers again.

Server events are queued and handled one at a time, in arrival order (python-socketio runs
handlers as tasks, which could otherwise reorder an offer and its candidates).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import httpx
import socketio
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCDataChannel,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import AudioStreamTrack

from realtime.protocol import CONSULT_NS
from signaling.peer_media import Media
from signaling.protocol import (
    CALL_ADMIT,
    CALL_ADMITTED,
    CALL_ANSWER,
    CALL_ENDED,
    CALL_HANGUP,
    CALL_ICE,
    CALL_JOIN,
    CALL_OFFER,
    CALL_PEER_JOINED,
    CALL_PEER_LEFT,
    CALL_RECORD,
    CALL_RECORD_STOP,
    CALL_REPLACED,
    CALL_WAITING,
)
from signaling.sdp import ice_ufrag, split_candidates, to_candidate

log = logging.getLogger(__name__)

API = "/api/v1/teleconsultation/session"
SERVER_EVENTS = (
    CALL_WAITING,
    CALL_ADMITTED,
    CALL_PEER_JOINED,
    CALL_PEER_LEFT,
    CALL_REPLACED,
    CALL_ENDED,
    CALL_OFFER,
    CALL_ANSWER,
    CALL_ICE,
)
DATA_CHANNEL = "consult"


class SignalingRefused(Exception):
    """The server refused a call event (its ack was `{ok: false}`)."""

    def __init__(self, event: str, error: dict[str, Any]) -> None:
        super().__init__(f"{event}: {error}")
        self.code = str(error.get("code"))


class CallPeer:
    def __init__(self, base_url: str, access_token: str, session_id: str, wait_s: float = 15.0):
        self.base_url = base_url
        self.access_token = access_token
        self.session_id = session_id
        self.wait_s = wait_s
        self.role = ""
        self.polite = False
        self.joined: dict[str, Any] = {}
        self.events: list[tuple[str, Any]] = []
        self.media = Media()
        self.pc: RTCPeerConnection | None = None
        self.channel: RTCDataChannel | None = None
        self._ice_servers: list[RTCIceServer] = []
        self._sio: socketio.AsyncClient | None = None
        self._inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._readers: set[asyncio.Task[None]] = set()
        self._pending: list[dict[str, Any]] = []  # candidates before their description
        self._ignored: set[str] = set()  # ICE ufrags of offers we ignored (glare, impolite)
        self._making_offer = False
        self.recording_pc: RTCPeerConnection | None = None
        self.offer_on_admit = False  # offer as soon as admitted (to exercise glare)
        self.recoveries = 0  # new connections made because ICE failed (see _recover)

    # Public surface -----------------------------------------------------------------------

    async def join(self, *, resume: bool = False, rejoin: bool = False) -> dict[str, Any]:
        """REST join (or token refresh), socket connect, call.join; returns the join ack."""
        async with httpx.AsyncClient(base_url=self.base_url, timeout=self.wait_s) as http:
            headers = {"Authorization": f"Bearer {self.access_token}"}
            url = f"{API}/{self.session_id}"
            if rejoin:
                response = await http.get(f"{url}/token", headers=headers)
            else:
                response = await http.post(f"{url}/join", headers=headers)
        response.raise_for_status()
        grant = response.json()
        self.role, self.polite = grant["role"], grant["polite"]
        self._ice_servers = [RTCIceServer(**server) for server in grant["ice_servers"]]
        if self._sio is None or not self._sio.connected:
            await self._connect()
        ack = await self.call(CALL_JOIN, {"join_token": grant["token"], "resume": resume})
        self.joined = ack
        peer = ack["peer"]
        if self.role == "doctor" and ack["status"] == "active" and peer["present"]:
            self._inbox.put_nowait(("_start", None))
        return ack

    async def admit(self) -> dict[str, Any]:
        ack = await self.call(CALL_ADMIT, {"session_id": self.session_id})
        self._inbox.put_nowait(("_start", None))
        return ack

    async def hangup(self) -> None:
        await self.call(CALL_HANGUP, {"session_id": self.session_id})
        await self._close_pc()

    async def start_recording(self) -> None:
        """Send our audio to the server's recorder too (both parties must have consented)."""
        pc = RTCPeerConnection(RTCConfiguration(iceServers=self._ice_servers))
        pc.addTrack(AudioStreamTrack())
        await pc.setLocalDescription(await pc.createOffer())
        offer = {"type": "offer", "sdp": pc.localDescription.sdp}  # candidates inside
        try:
            ack = await self.call(
                CALL_RECORD, {"session_id": self.session_id, "description": offer}
            )
        except Exception:
            await pc.close()
            raise
        await pc.setRemoteDescription(RTCSessionDescription(**ack["description"]))
        self.recording_pc = pc

    async def packets_to_recorder(self) -> int:
        """RTP packets sent to the recorder so far (the recorder buffers before writing)."""
        if self.recording_pc is None:
            return 0
        report = await self.recording_pc.getStats()
        return sum(
            int(getattr(s, "packetsSent", 0)) for s in report.values() if s.type == "outbound-rtp"
        )

    async def stop_recording(self) -> dict[str, Any]:
        ack = await self.call(CALL_RECORD_STOP, {"session_id": self.session_id})
        if self.recording_pc is not None:
            await self.recording_pc.close()
            self.recording_pc = None
        return ack

    async def drop(self) -> None:
        """Vanish like a crashed tab: no hang-up, the socket and the connection just close."""
        if self._sio is not None:
            await self._sio.disconnect()
        await self._close_pc()

    async def close(self) -> None:
        if self._sio is not None and self._sio.connected:
            await self._sio.disconnect()
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
        await self._close_pc()

    def send_text(self, text: str) -> None:
        if self.channel is None or self.channel.readyState != "open":
            raise RuntimeError("the data channel is not open")
        self.channel.send(text)

    def got(self, event: str) -> list[Any]:
        return [data for name, data in self.events if name == event]

    async def until(self, check: Any, timeout: float | None = None) -> None:
        async with asyncio.timeout(timeout or self.wait_s):
            while True:
                self.media.changed.clear()
                if check():
                    return
                await self.media.changed.wait()

    async def until_media(self, kind: str = "audio", frames: int = 5) -> None:
        await self.until(lambda: self.media.frames.get(kind, 0) >= frames)

    async def until_channel_open(self) -> None:
        await self.until(lambda: self.channel is not None and self.channel.readyState == "open")

    async def call(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        assert self._sio is not None
        ack = await self._sio.call(event, data, namespace=CONSULT_NS, timeout=self.wait_s)
        if not ack.get("ok"):
            raise SignalingRefused(event, ack.get("error", {}))
        result: dict[str, Any] = ack["data"]
        return result

    # Socket --------------------------------------------------------------------------------

    async def _connect(self) -> None:
        self._sio = socketio.AsyncClient(reconnection=False)
        for event in SERVER_EVENTS:
            self._sio.on(event, self._enqueue(event), namespace=CONSULT_NS)
        await self._sio.connect(
            self.base_url,
            namespaces=[CONSULT_NS],
            auth={"token": self.access_token},
            transports=["websocket"],
            wait_timeout=self.wait_s,
        )
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work())

    def _enqueue(self, event: str) -> Any:
        async def handler(data: Any = None) -> None:
            self._inbox.put_nowait((event, data))  # before any await: keeps arrival order

        return handler

    async def _work(self) -> None:
        while True:
            event, data = await self._inbox.get()
            if not event.startswith("_"):
                self.events.append((event, data))
            try:
                await self._handle(event, data)
            except Exception:  # a test peer logs and carries on, like a browser tab
                log.exception("call peer failed on %s", event)
            self.media.note()

    async def _handle(self, event: str, data: Any) -> None:
        if event == "_ice_failed":
            if data is self.pc:  # not a connection replaced meanwhile
                await self._recover()
        elif event == CALL_ADMITTED and self.offer_on_admit:
            await self._offer()
        elif event == "_start" or (
            event == CALL_PEER_JOINED and not data["resume"] and self.role == "doctor"
        ):
            await self._offer()
        elif event == CALL_PEER_JOINED and not data["resume"]:
            await self._close_pc()  # the doctor will offer on a new connection
        elif event in (CALL_PEER_LEFT, CALL_ENDED, CALL_REPLACED):
            await self._close_pc()
        elif event == CALL_OFFER:
            await self._on_offer(data["description"])
        elif event == CALL_ANSWER and self.pc is not None:
            await self.pc.setRemoteDescription(RTCSessionDescription(**data["description"]))
            await self._flush_candidates()
        elif event == CALL_ICE and data["candidate"] is not None:
            if data["candidate"].get("usernameFragment") not in self._ignored:
                self._pending.append(data["candidate"])
                await self._flush_candidates()

    # WebRTC --------------------------------------------------------------------------------

    async def _new_pc(self) -> RTCPeerConnection:
        await self._close_pc()
        pc = RTCPeerConnection(RTCConfiguration(iceServers=self._ice_servers))
        self.pc, self.media.frames = pc, {}

        @pc.on("connectionstatechange")
        def on_state() -> None:
            # aiortc reports a dead ICE path (consent expired, transport gone) by closing the
            # connection itself, or as failed; a connection we close is no longer self.pc.
            if pc.connectionState in ("failed", "closed") and pc is self.pc:
                self._inbox.put_nowait(("_ice_failed", pc))

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            task = asyncio.create_task(self._read(track))
            self._readers.add(task)
            task.add_done_callback(self._readers.discard)

        @pc.on("datachannel")
        def on_datachannel(channel: RTCDataChannel) -> None:
            self._use_channel(channel)

        return pc

    def _use_channel(self, channel: RTCDataChannel) -> None:
        self.channel = channel

        @channel.on("message")
        def on_message(message: str | bytes) -> None:
            self.media.messages.append(message if isinstance(message, str) else message.hex())
            self.media.note()

        channel.on("open", self.media.note)

    async def _read(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(Exception):  # MediaStreamError when the connection closes
            while True:
                await track.recv()
                self.media.frames[track.kind] = self.media.frames.get(track.kind, 0) + 1
                self.media.note()

    async def _offer(self) -> None:
        pc = await self._new_pc()
        self._use_channel(pc.createDataChannel(DATA_CHANNEL))
        pc.addTrack(AudioStreamTrack())
        self._making_offer = True
        try:
            await pc.setLocalDescription(await pc.createOffer())
            await self._send_description(CALL_OFFER, pc)
        finally:
            self._making_offer = False

    async def _on_offer(self, description: dict[str, Any]) -> None:
        collision = self._making_offer or (
            self.pc is not None and self.pc.signalingState != "stable"
        )
        if collision and not self.polite:
            # Impolite: our offer wins; theirs, and the candidates trickled for it, are ignored.
            self._ignored.add(ice_ufrag(description["sdp"]))
            return
        pc = self.pc
        remote = pc.remoteDescription if pc is not None else None
        if pc is not None and not collision and remote is not None:
            if ice_ufrag(remote.sdp) == ice_ufrag(description["sdp"]):
                # Renegotiation of the same connection (e.g. a track added).
                await pc.setRemoteDescription(RTCSessionDescription(**description))
                await pc.setLocalDescription(await pc.createAnswer())
                await self._send_description(CALL_ANSWER, pc, trickle=False)
                return
        # A new connection on their side, or polite on a collision: answer on a fresh
        # connection (aiortc has no rollback).
        pc = await self._new_pc()
        await pc.setRemoteDescription(RTCSessionDescription(**description))
        pc.addTrack(AudioStreamTrack())
        await pc.setLocalDescription(await pc.createAnswer())
        await self._send_description(CALL_ANSWER, pc)
        await self._flush_candidates()

    async def _recover(self) -> None:
        """ICE failed with both sockets up. A browser restarts ICE (an offer with new ICE
        credentials on the same connection); aiortc cannot (createOffer takes no iceRestart,
        and a connection keeps its ICE credentials), so this side takes the fallback at once: a
        new connection and a new offer. The other side answers it on a fresh connection (new
        ICE ufrag: _on_offer), whichever side failed first; a collision resolves as any glare."""
        self.recoveries += 1
        await self._offer()

    async def renegotiate(self, track: MediaStreamTrack) -> None:
        """Add a track to the running call: a new offer on the same connection, same ICE."""
        pc = self.pc
        if pc is None:
            raise RuntimeError("no call to renegotiate")
        pc.addTrack(track)
        self._making_offer = True
        try:
            await pc.setLocalDescription(await pc.createOffer())
            await self._send_description(CALL_OFFER, pc, trickle=False)
        finally:
            self._making_offer = False

    async def _send_description(
        self, event: str, pc: RTCPeerConnection, *, trickle: bool = True
    ) -> None:
        """Send the SDP without its candidates, then trickle them, then end-of-candidates
        (not again when renegotiating: the ICE session and its candidates carry on)."""
        local = pc.localDescription
        sdp, candidates = split_candidates(local.sdp)
        await self.call(
            event, {"session_id": self.session_id, "description": {"type": local.type, "sdp": sdp}}
        )
        if not trickle:
            return
        # End of candidates, browser style: an empty candidate of this ICE generation.
        end = {"candidate": "", "sdpMLineIndex": 0, "usernameFragment": ice_ufrag(sdp)}
        for candidate in [*candidates, end]:
            await self.call(CALL_ICE, {"session_id": self.session_id, "candidate": candidate})

    async def _flush_candidates(self) -> None:
        pc = self.pc
        if pc is None or pc.remoteDescription is None:
            return  # kept until the description they belong to is applied
        pending, self._pending = self._pending, []
        for item in pending:
            if not item["candidate"]:
                await pc.addIceCandidate(None)
                continue
            await pc.addIceCandidate(to_candidate(item))

    async def _close_pc(self) -> None:
        if self.recording_pc is not None:
            await self.recording_pc.close()
            self.recording_pc = None
        pc, self.pc, self.channel = self.pc, None, None
        self._pending = []
        if pc is not None:
            await pc.close()
        for task in list(self._readers):
            task.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)
