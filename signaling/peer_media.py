"""What a scripted call participant sends and receives: test tracks and a tally of media."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiortc.mediastreams import VideoStreamTrack
from av import VideoFrame


@dataclass
class Media:
    """What one connection received: data-channel messages, media frames per kind."""

    messages: list[str] = field(default_factory=list)
    frames: dict[str, int] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def note(self) -> None:
        self.changed.set()


class SmallVideoTrack(VideoStreamTrack):
    """Test pattern frames at 160x120: cheap to encode on a shared CI machine."""

    async def recv(self) -> VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = VideoFrame(width=160, height=120)
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.pts, frame.time_base = pts, time_base
        return frame
