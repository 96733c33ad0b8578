"""Live servers (tests/realtime/conftest.py) and aiortc confined to loopback.

aioice offers every interface but 127.0.0.1 by default, and tests reach loopback only
(shared/TESTING-NETWORK.md): host candidates are pinned to 127.0.0.1, and peers get the
server's ICE list, empty unless a test configures STUN / TURN.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import aioice.ice
import pytest

from signaling.peer import CallPeer
from tests.realtime.conftest import connect, live_server, start_server  # noqa: F401

MakePeer = Callable[[str, str, str], CallPeer]


@pytest.fixture(autouse=True)
def loopback_ice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


@pytest.fixture
async def make_peer() -> AsyncIterator[MakePeer]:
    """`make_peer(server_url, access_token, session_id)`; every peer is closed afterwards."""
    peers: list[CallPeer] = []

    def make(url: str, token: str, session_id: str) -> CallPeer:
        peer = CallPeer(url, token, session_id)
        peers.append(peer)
        return peer

    yield make
    for peer in peers:
        await peer.close()
