"""Real engines for tests: the machine's PostgreSQL / NATS / Redis when reachable, else embedded.

Each test gets its own database (cloned from a migrated template) and its own JetStream stream
and subject prefix, so tests run in any order and helpers can share one server.

`MARKINI_TEST_NOW` (ISO 8601 with an offset, e.g. `2027-03-28T01:30:00+01:00`) sets the one clock
(server/clock.py) for the whole run with time-machine; time then ticks on from there. CI runs the
hour-sensitive suites at awkward instants this way (.ci/run).
"""

from __future__ import annotations

import base64
import os
import secrets
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import time_machine
from asgi_lifespan import LifespanManager

from bus.embedded import embedded_nats
from bus.nats import Bus, connect_bus
from server.app import create_app
from server.settings import Settings
from storage.embedded import embedded_postgres
from storage.migrate import migrate
from storage.pool import open_pool
from tests import started

ON_CI = os.environ.get("CI") == "true"
# One random pair per run: nodes started by one test (make_app, several apps) must agree.
TEST_JWT_SECRET = secrets.token_urlsafe(48)
TEST_DATA_KEYS = f"dev:{base64.b64encode(secrets.token_bytes(32)).decode()}"
LOCAL_PG = "postgresql://postgres@127.0.0.1:5432/test"
LOCAL_NATS = "nats://127.0.0.1:4222"
LOCAL_REDIS = "redis://127.0.0.1:6379/0"


def pytest_configure(config: pytest.Config) -> None:
    """Travel to MARKINI_TEST_NOW before anything is imported or started."""
    instant = os.environ.get("MARKINI_TEST_NOW")
    if instant:
        at = datetime.fromisoformat(instant)
        if at.tzinfo is None:
            raise pytest.UsageError("MARKINI_TEST_NOW needs an offset, e.g. +01:00")
        traveller = time_machine.travel(at, tick=True)
        traveller.start()
        config.add_cleanup(traveller.stop)


@pytest.fixture(autouse=True)
def _mark_test_start() -> None:
    started.mark()


def pytest_report_header() -> str:
    return f"markini clock: {os.environ.get('MARKINI_TEST_NOW') or 'real now'}"


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class EngineUrls:
    admin_dsn: str
    nats_url: str
    redis_url: str | None


@pytest.fixture(scope="session")
async def engine_urls(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[EngineUrls]:
    async with AsyncExitStack() as stack:
        admin = os.environ.get("MARKINI_TEST_DATABASE_URL")
        if not admin and _port_open(5432):
            admin = LOCAL_PG
        if not admin:
            # Not under tmp_path_factory: PostgreSQL runs as its own user and cannot enter it.
            pg_dir = Path(tempfile.mkdtemp(prefix="markini-test-pg-"))
            admin = await stack.enter_async_context(embedded_postgres(pg_dir))
        nats_url = os.environ.get("MARKINI_TEST_NATS_URL")
        if not nats_url and _port_open(4222):
            nats_url = LOCAL_NATS
        if not nats_url:
            nats_url = await stack.enter_async_context(
                embedded_nats(tmp_path_factory.mktemp("nats"))
            )
        await _anchor_stream(nats_url)
        redis_url = os.environ.get("MARKINI_TEST_REDIS_URL")
        if not redis_url and _port_open(6379):
            redis_url = LOCAL_REDIS
        yield EngineUrls(admin, nats_url, redis_url)


ANCHOR_STREAM = "MARKINI_TESTS_ANCHOR"


async def _anchor_stream(nats_url: str) -> None:
    """One stream that outlives every test's own: nats-server removes its streams directory when
    the last stream goes, and a stream created at that moment by a concurrent run (CI runs
    several at once) fails with "error creating store for stream"."""
    import nats

    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().add_stream(name=ANCHOR_STREAM, subjects=["markini-tests-anchor"])
    finally:
        await nc.close()


def _dsn_for(admin_dsn: str, database: str) -> str:
    base, _, query = admin_dsn.partition("?")
    base = base.rsplit("/", 1)[0]
    return f"{base}/{database}" + (f"?{query}" if query else "")


@pytest.fixture(scope="session")
async def template_db(engine_urls: EngineUrls) -> AsyncIterator[str]:
    name = f"mk_tpl_{uuid.uuid4().hex[:12]}"
    con = await asyncpg.connect(engine_urls.admin_dsn)
    await con.execute(f'CREATE DATABASE "{name}"')
    await migrate(_dsn_for(engine_urls.admin_dsn, name))
    yield name
    await con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await con.close()


@pytest.fixture
async def database_url(engine_urls: EngineUrls, template_db: str) -> AsyncIterator[str]:
    name = f"mk_{uuid.uuid4().hex[:12]}"
    con = await asyncpg.connect(engine_urls.admin_dsn)
    try:
        await con.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
        yield _dsn_for(engine_urls.admin_dsn, name)
        await con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await con.close()


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the test database, for what the app's background work or other domains call."""
    async with open_pool(database_url, max_size=6) as p:
        yield p


@pytest.fixture
def redis_url(engine_urls: EngineUrls) -> str:
    if engine_urls.redis_url is None:
        if ON_CI:
            pytest.fail("Redis is required on CI (127.0.0.1:6379)")
        pytest.skip("no Redis reachable")
    return engine_urls.redis_url


def make_settings(database_url: str, nats_url: str, data_dir: Path, **overrides: Any) -> Settings:
    tag = uuid.uuid4().hex[:10]
    values: dict[str, Any] = {
        "env": "test",
        "database_url": database_url,
        "nats_url": nats_url,
        "data_dir": data_dir,
        "nats_stream": f"T{tag}",
        "nats_subject_prefix": f"t{tag}",
        "outbox_poll_interval_s": 0.05,
        # Explicit random secrets: nothing shared between runs, nothing written to the data dir.
        "jwt_secret": TEST_JWT_SECRET,
        "data_keys": TEST_DATA_KEYS,
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
async def settings(
    database_url: str, engine_urls: EngineUrls, tmp_path: Path
) -> AsyncIterator[Settings]:
    settings = make_settings(database_url, engine_urls.nats_url, tmp_path)
    yield settings
    await delete_stream(engine_urls.nats_url, settings.nats_stream)


async def delete_stream(nats_url: str, stream: str) -> None:
    import nats

    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().delete_stream(stream)
    except Exception:  # the test may never have created it
        pass
    finally:
        await nc.close()


@pytest.fixture
async def bus(settings: Settings) -> AsyncIterator[Bus]:
    """A connection to the test's own JetStream stream (deleted with `settings`)."""
    async with connect_bus(
        settings.nats_url or "", settings.nats_stream, settings.nats_subject_prefix
    ) as connected:
        yield connected


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    application = create_app(settings)
    async with LifespanManager(application, startup_timeout=60, shutdown_timeout=30) as manager:
        yield manager.app


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection to the test database, for assertions on stored rows."""
    from storage.pool import _init_connection

    con = await asyncpg.connect(database_url)
    await _init_connection(con)
    yield con
    await con.close()


@pytest.fixture(scope="session", autouse=True)
def _no_network_beyond_loopback() -> Iterator[None]:
    """Tests reach loopback only: fail loudly on any other address instead of hanging."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            if host not in ("127.0.0.1", "::1", "localhost") and not host.startswith("127."):
                raise OSError(f"test tried to reach {host}: tests stay on loopback")
        return real_connect(self, address)

    socket.socket.connect = guarded  # type: ignore[method-assign]
    yield
    socket.socket.connect = real_connect  # type: ignore[method-assign]


@pytest.fixture(scope="session")
async def localstripe_url() -> AsyncIterator[str]:
    """One localstripe for the run (server/payments/embedded.py starts it the way Markini does);
    apps point at it with stripe_api_base. Objects are per test: every test makes its own."""
    import signal

    from bus.embedded import free_port, wait_for_port
    from server.payments.embedded import start_localstripe
    from storage.processes import stop_child

    port = free_port()
    proc = await start_localstripe(port)
    try:
        await wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        await stop_child(proc, signal.SIGTERM)
