"""Joining a call records the app clock's instant as the socket's presence."""

from __future__ import annotations

import asyncpg
import pytest

from realtime.protocol import CONSULT_NS
from server.settings import Settings
from tests.far_clock import far_clock
from tests.realtime.conftest import ConnectProbe, LiveServer
from tests.signaling.helpers import SESSION_API, consultation

pytestmark = pytest.mark.engines


async def test_presence_in_a_call_carries_the_app_clock(
    live_server: LiveServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    with far_clock() as now:
        c = await consultation(live_server.http, db, settings)
        granted = await live_server.http.post(
            f"{SESSION_API}/{c.session_id}/join", headers=c.doctor.user.headers
        )
        assert granted.status_code == 200, granted.text
        probe = await connect(live_server, [CONSULT_NS], c.doctor.user.token)
        ack = await probe.call(CONSULT_NS, "call.join", {"join_token": granted.json()["token"]})
        assert ack["ok"], ack
    assert await db.fetchval("SELECT joined_at FROM teleconsult.presence") == now
