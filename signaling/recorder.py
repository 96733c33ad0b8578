"""The server's recording peer: with both parties' consent, each party also sends its media to
an aiortc peer on the node holding its socket, which writes it to a WebM file under
`<data_dir>/recordings/<session_id>/<role>-<unix ms>.webm` (aiortc MediaRecorder).

One recording connection per party (the media itself stays peer to peer between the two):
the party offers with `call.record` (non-trickle: its offer carries its candidates) and gets the
recorder's answer in the acknowledgement. A recording stops when the party sends
`call.record_stop`, leaves the call, its connection closes, the session ends, or a consent is
withdrawn. Several nodes must share the data dir (a network volume) to serve every recording.
"""

from __future__ import annotations

import logging
import time
import uuid
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRecorder

from server.teleconsult.access import CallRole
from signaling.protocol import Description

if TYPE_CHECKING:
    from realtime.hub import Realtime

log = logging.getLogger(__name__)

RECORDINGS_DIR = "recordings"


def session_dir(data_dir: Path, session_id: uuid.UUID) -> Path:
    return data_dir / RECORDINGS_DIR / str(session_id)


@dataclass
class _Recording:
    pc: RTCPeerConnection
    recorder: MediaRecorder
    path: Path
    sid: str
    done: bool = False


class Recorders:
    """This node's recording connections, by (session, role)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._live: dict[tuple[uuid.UUID, CallRole], _Recording] = {}

    async def start(
        self, session_id: uuid.UUID, role: CallRole, sid: str, offer: Description
    ) -> tuple[Description, Path]:
        """Answer the party's recording offer; the file fills as its media arrives."""
        await self.stop(session_id, role)
        folder = session_dir(self.data_dir, session_id)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{role}-{int(time.time() * 1000)}.webm"
        # The server answers with its host candidates; it is reachable by the parties.
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        recorder = MediaRecorder(str(path), format="webm")
        recording = _Recording(pc, recorder, path, sid)

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            recorder.addTrack(track)

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                await self._finish(session_id, role, recording)

        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer.sdp, type=offer.type))
        await recorder.start()
        await pc.setLocalDescription(await pc.createAnswer())
        self._live[(session_id, role)] = recording
        log.info("recording started", extra={"session_id": str(session_id), "role": role})
        local = pc.localDescription
        return Description(type="answer", sdp=local.sdp), path

    async def stop(self, session_id: uuid.UUID, role: CallRole, sid: str | None = None) -> bool:
        """Stop the party's recording (only the one `sid` started, when given)."""
        recording = self._live.get((session_id, role))
        if recording is None or (sid is not None and recording.sid != sid):
            return False
        await self._finish(session_id, role, recording)
        return True

    async def stop_session(self, session_id: uuid.UUID) -> None:
        for key in [k for k in self._live if k[0] == session_id]:
            await self.stop(*key)

    async def close(self) -> None:
        for key in list(self._live):
            await self.stop(*key)

    async def _finish(self, session_id: uuid.UUID, role: CallRole, recording: _Recording) -> None:
        if recording.done:  # closing the connection below calls back here
            return
        recording.done = True
        if self._live.get((session_id, role)) is recording:
            del self._live[(session_id, role)]
        try:
            await recording.recorder.stop()  # writes the container trailer
        except Exception:  # an empty recording (no frame came) has nothing to finalise
            log.warning("recording had no media", extra={"path": str(recording.path)})
        await recording.pc.close()
        log.info("recording stopped", extra={"session_id": str(session_id), "role": role})


# One registry per Socket.IO server (hub), created on first use: recordings belong to the
# sockets of this node, and a test process runs several apps side by side.
_REGISTRY: weakref.WeakKeyDictionary[Realtime, Recorders] = weakref.WeakKeyDictionary()


def recorders_of(hub: Realtime) -> Recorders:
    found = _REGISTRY.get(hub)
    if found is None:
        found = _REGISTRY[hub] = Recorders(hub.settings.data_dir)
    return found
