"""Rate limits survive Redis: sign-in keeps answering while Redis is down and after it returns."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.server.auth.conftest import (
    API,
    PASSWORD,
    AppFactory,
    ClientFactory,
    new_email,
    register,
)

REDIS_SERVER = shutil.which("redis-server")


class RedisServer:
    """Our own redis-server on a free loopback port, to stop and start at will (never the
    machine's shared one)."""

    def __init__(self, workdir: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert REDIS_SERVER is not None
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        for _ in range(100):  # bounded: 10 s at most
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def keys(self) -> int:
        return int(redis.Redis(port=self.port).dbsize())


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


async def _sign_in_round(client: httpx.AsyncClient, email: str) -> list[int]:
    """A right password, a wrong one and a reset request: what a sign-in page sends."""
    right = await client.post(f"{API}/login", json={"email": email, "password": PASSWORD})
    wrong = await client.post(f"{API}/login", json={"email": email, "password": "not it at all"})
    forgot = await client.post(f"{API}/forgot-password", json={"email": email})
    return [right.status_code, wrong.status_code, forgot.status_code]


async def _rate_limits(client: httpx.AsyncClient) -> str:
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    state: str = ready.json()["details"]["rate_limits"]
    return state


async def test_sign_in_keeps_answering_through_a_redis_outage_and_after_it(
    make_app: AppFactory, client_for: ClientFactory, own_redis: RedisServer
) -> None:
    # Redis is tried again at every request (no back-off), to cover each path in one test.
    app, _ = await make_app(
        redis_url=own_redis.url,
        redis_retry_s=0,
        login_rate_limit="100/minute",
        forgot_rate_limit="100/minute",
    )
    client = await client_for(app)
    email = new_email()
    await register(client, email)
    expected = [200, 401, 202]

    assert await _sign_in_round(client, email) == expected
    assert own_redis.keys() > 0  # counted in Redis
    assert await _rate_limits(client) == "shared"

    own_redis.stop()  # outage: connections refused
    for _ in range(3):
        assert await _sign_in_round(client, email) == expected
    assert await _rate_limits(client) == "per node (Redis unreachable)"

    own_redis.start()  # back, empty, on the same port
    for _ in range(3):
        assert await _sign_in_round(client, email) == expected
    assert await _rate_limits(client) == "shared"
    assert own_redis.keys() > 0

    # A restart between two requests leaves every pooled connection dead: their first use
    # reconnects and the count still lands in Redis.
    own_redis.stop()
    own_redis.start()
    assert await _sign_in_round(client, email) == expected
    assert await _rate_limits(client) == "shared"
    assert own_redis.keys() > 0


async def test_limits_still_bite_per_node_while_redis_is_down(
    make_app: AppFactory, client_for: ClientFactory, own_redis: RedisServer
) -> None:
    app, _ = await make_app(redis_url=own_redis.url, login_rate_limit="3/minute")
    own_redis.stop()
    client = await client_for(app, "10.7.0.1")
    statuses = []
    for _ in range(4):
        response = await client.post(
            f"{API}/login", json={"email": new_email(), "password": PASSWORD}
        )
        statuses.append(response.status_code)
    assert statuses == [401, 401, 401, 429]
    assert int(response.headers["retry-after"]) >= 1
