"""SDP helpers for trickle ICE with aiortc, which puts every candidate inside the SDP: split
them out as RTCIceCandidateInit dicts (what a browser's icecandidate events carry), and back."""

from __future__ import annotations

from typing import Any

from aiortc import RTCIceCandidate
from aiortc.sdp import candidate_from_sdp


def split_candidates(sdp: str) -> tuple[str, list[dict[str, Any]]]:
    """An SDP without its a=candidate / end-of-candidates lines, and those candidates as
    RTCIceCandidateInit dicts (what a browser's icecandidate event would have given)."""
    kept: list[str] = []
    candidates: list[dict[str, Any]] = []
    mline, mid = -1, None
    ufrag = ice_ufrag(sdp)
    for line in sdp.splitlines():
        if line.startswith("m="):
            mline, mid = mline + 1, None
        elif line.startswith("a=mid:"):
            mid = line.removeprefix("a=mid:")
        if line.startswith("a=candidate:"):
            candidates.append(
                {
                    "candidate": line[2:],
                    "sdpMLineIndex": mline,
                    "sdpMid": mid,
                    "usernameFragment": ufrag,
                }
            )
            continue
        if line != "a=end-of-candidates":
            kept.append(line)
    for candidate in candidates:  # a=mid may follow the candidates of its section
        if candidate["sdpMid"] is None:
            candidate["sdpMid"] = _mid_of(kept, candidate["sdpMLineIndex"])
    return "\r\n".join(kept) + "\r\n", candidates


def ice_ufrag(sdp: str) -> str:
    """The (first) ICE username fragment: with BUNDLE, every section shares it."""
    for line in sdp.splitlines():
        if line.startswith("a=ice-ufrag:"):
            return line.removeprefix("a=ice-ufrag:")
    return ""


def _mid_of(lines: list[str], index: int) -> str | None:
    mline = -1
    for line in lines:
        if line.startswith("m="):
            mline += 1
        elif mline == index and line.startswith("a=mid:"):
            return line.removeprefix("a=mid:")
    return None


def to_candidate(init: dict[str, Any]) -> RTCIceCandidate:
    """An RTCIceCandidateInit (non-empty `candidate`) as aiortc's RTCIceCandidate."""
    candidate = candidate_from_sdp(str(init["candidate"]).removeprefix("candidate:"))
    candidate.sdpMid = init.get("sdpMid")
    candidate.sdpMLineIndex = init.get("sdpMLineIndex")
    return candidate
