"""Browser end-to-end tests: the real server on 127.0.0.1 (uvicorn in a thread, real engines)
driven by Debian's Chromium through Playwright. Never `playwright install`: no downloaded browser.

One server and database per test module (tests in it make their own users, so they do not
collide); one browser per session; a fresh browser context per test.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import uvicorn
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, async_playwright

from server.app import create_app
from server.http11 import UVICORN_OPTIONS
from server.settings import Settings
from tests.conftest import EngineUrls, _dsn_for, delete_stream, make_settings
from tests.e2e.demo import Demo

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# WebRTC between two contexts: fake camera and microphone, granted without asking, loopback
# candidates allowed and not hidden behind mDNS names (shared/TESTING-NETWORK.md). Only inside
# a loopback-only network namespace: tests/e2e/test_consultation.py sets NETNS_FLAG there.
WEBRTC_ARGS = [
    *CHROMIUM_ARGS,
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]
NETNS_FLAG = "MARKINI_E2E_NETNS"
DESKTOP = ViewportSize(width=1280, height=900)
PHONE = ViewportSize(width=375, height=812)
# Every test's browser sees the same zone, so "10:00" in an assertion means one instant.
BROWSER_ZONE = "Europe/Paris"


@dataclass
class LiveServer:
    url: str
    settings: Settings
    database_url: str


@pytest.fixture(scope="session")
def web_dist() -> Path:
    """Build web/ once per run (skipped when web/dist is newer than its sources)."""
    subprocess.run([sys.executable, str(ROOT / "tools" / "build_web.py")], check=True, cwd=ROOT)
    dist = ROOT / "web" / "dist"
    assert (dist / "index.html").is_file(), "tools/build_web.py produced no web/dist/index.html"
    return dist


class _ServerThread(threading.Thread):
    def __init__(self, app: Any) -> None:
        super().__init__(daemon=True, name="e2e-uvicorn")
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", lifespan="on", **UVICORN_OPTIONS
        )
        self.server = uvicorn.Server(config)

    def run(self) -> None:
        self.server.run()

    @property
    def port(self) -> int:
        return int(self.server.servers[0].sockets[0].getsockname()[1])


@pytest.fixture(scope="module")
async def live(
    web_dist: Path,
    engine_urls: EngineUrls,
    template_db: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[LiveServer]:
    async with serve(engine_urls, template_db, tmp_path_factory.mktemp("e2e")) as server:
        yield server


@asynccontextmanager
async def serve(
    engine_urls: EngineUrls, template_db: str, data_dir: Path, **overrides: Any
) -> AsyncIterator[LiveServer]:
    """The app on a free port of 127.0.0.1 with its own database; `overrides` go to Settings."""
    name = f"mk_e2e_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(engine_urls.admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
    dsn = _dsn_for(engine_urls.admin_dsn, name)
    # Every browser signs in from 127.0.0.1: the per-IP sign-in limit would trip mid-module.
    limits = {"login_rate_limit": "1000/minute", "forgot_rate_limit": "1000/minute"}
    settings = make_settings(dsn, engine_urls.nats_url, data_dir, **{**limits, **overrides})
    thread = _ServerThread(create_app(settings))
    thread.start()
    try:
        for _ in range(600):
            if thread.server.started or not thread.is_alive():
                break
            await asyncio.sleep(0.05)
        assert thread.server.started, "the server did not start"
        yield LiveServer(f"http://127.0.0.1:{thread.port}", settings, dsn)
    finally:
        thread.server.should_exit = True
        await asyncio.to_thread(thread.join, 30)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        await delete_stream(engine_urls.nats_url, settings.nats_stream)


@pytest.fixture(scope="module")
async def demo(live: LiveServer) -> AsyncIterator[Demo]:
    async with Demo.open(live.url, live.settings, live.database_url) as made:
        yield made


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


class Contexts:
    """Opens browser contexts (one per simulated person) and closes them after the test."""

    def __init__(self, browser: Browser, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.opened: list[BrowserContext] = []
        self.page_errors: list[str] = []

    async def new_page(
        self,
        *,
        phone: bool = False,
        locale: str = "en-GB",
        inject_scripts: bool = False,
        zone: str = BROWSER_ZONE,
    ) -> Page:
        """`inject_scripts` lifts the app's CSP so a test can add axe-core to the page; `zone`
        is the viewer's IANA time zone."""
        context = await self.browser.new_context(
            bypass_csp=inject_scripts,
            base_url=self.base_url,
            viewport=PHONE if phone else DESKTOP,
            is_mobile=phone,
            has_touch=phone,
            locale=locale,
            timezone_id=zone,
        )
        context.set_default_timeout(15_000)
        self.opened.append(context)
        page = await context.new_page()
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        return page

    async def close(self) -> None:
        for context in self.opened:
            await context.close()


@pytest.fixture
async def contexts(browser: Browser, live: LiveServer) -> AsyncIterator[Contexts]:
    opened = Contexts(browser, live.url)
    yield opened
    await opened.close()
    assert not opened.page_errors, f"uncaught errors in the page: {opened.page_errors}"


@pytest.fixture
async def page(contexts: Contexts) -> Page:
    return await contexts.new_page()


SCREENSHOTS_FLAG = "MARKINI_UPDATE_SCREENSHOTS"


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where page screenshots go: docs/screenshots/ when asked (MARKINI_UPDATE_SCREENSHOTS=1),
    else a temporary folder, so an ordinary test run leaves the checkout untouched."""
    if os.environ.get(SCREENSHOTS_FLAG) == "1":
        directory = ROOT / "docs" / "screenshots"
        directory.mkdir(parents=True, exist_ok=True)
    else:
        directory = tmp_path_factory.mktemp("screenshots")
    yield directory
