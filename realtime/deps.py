"""Reach this node's Realtime from HTTP handlers (`Depends(get_realtime)`)."""

from __future__ import annotations

from fastapi import Request

from realtime.hub import Realtime


def get_realtime(request: Request) -> Realtime:
    realtime: Realtime = request.state.realtime
    return realtime
