"""An admin's suspension closes the account's live sockets at once, not at the next sweep."""

from __future__ import annotations

import asyncpg
import pytest

from realtime.protocol import NOTIFICATIONS_NS, SESSION_ENDED
from server.settings import Settings
from tests.factories import make_user
from tests.realtime.conftest import ConnectProbe, StartServer

pytestmark = [pytest.mark.engines, pytest.mark.any_hour]


async def test_suspension_ends_live_sockets_at_once(
    start_server: StartServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    # No sweep during the test: only the suspension itself can close the socket.
    server = await start_server(settings.model_copy(update={"socket_session_check_s": 3600}))
    admin = await make_user(db, settings, "admin")
    user, other = await make_user(db, settings, "patient"), await make_user(db, settings, "patient")
    probe = await connect(
        server, [NOTIFICATIONS_NS], user.token, [(NOTIFICATIONS_NS, SESSION_ENDED)]
    )
    bystander = await connect(server, [NOTIFICATIONS_NS], other.token)
    health = await server.http.get("/api/v1/admin/health", headers=admin.headers)
    assert health.json()["sockets"][NOTIFICATIONS_NS] == 2

    answer = await server.http.post(f"/api/v1/admin/users/{user.id}/suspend", headers=admin.headers)

    assert answer.status_code == 200, answer.text
    assert answer.json()["sockets_closed"] == 1
    await probe.until(lambda: bool(probe.got(NOTIFICATIONS_NS, "disconnect")))
    assert probe.got(NOTIFICATIONS_NS, SESSION_ENDED) == [{"reason": "revoked"}]
    assert bystander.client.connected


async def test_suspension_on_one_node_ends_the_sockets_on_another(
    start_server: StartServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    # Two nodes of one deployment, no periodic sweep: the `user.suspended` event does it.
    quiet = settings.model_copy(update={"socket_session_check_s": 3600})
    here, there = await start_server(quiet), await start_server(quiet)
    admin = await make_user(db, settings, "admin")
    user = await make_user(db, settings, "patient")
    probe = await connect(
        there, [NOTIFICATIONS_NS], user.token, [(NOTIFICATIONS_NS, SESSION_ENDED)]
    )

    answer = await here.http.post(f"/api/v1/admin/users/{user.id}/suspend", headers=admin.headers)

    assert answer.status_code == 200 and answer.json()["sockets_closed"] == 0
    await probe.until(lambda: bool(probe.got(NOTIFICATIONS_NS, "disconnect")))
    assert probe.got(NOTIFICATIONS_NS, SESSION_ENDED) == [{"reason": "revoked"}]


async def test_the_count_includes_sockets_the_accounts_own_event_closed_first(
    start_server: StartServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    # The suspension's `user.suspended` event may reach this very node, whose sweep then closes
    # the socket before the suspension itself gets to it: the socket still counts as closed.
    server = await start_server(settings.model_copy(update={"socket_session_check_s": 3600}))
    user = await make_user(db, settings, "patient")
    probe = await connect(server, [NOTIFICATIONS_NS], user.token)
    await db.execute("UPDATE auth.users SET is_active = false WHERE id = $1", user.id)

    assert await server.realtime.sessions.sweep(server.realtime.engines) == 1
    assert await server.realtime.end_sessions([user.session_id]) == 1
    await probe.until(lambda: bool(probe.got(NOTIFICATIONS_NS, "disconnect")))
