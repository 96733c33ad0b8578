"""Live sockets across token lifetimes: a server with access tokens of a few seconds ends the
page's sockets at each expiry (`session.ended`), and refuses tokens at connect; the page
refreshes its token and connects again, or goes on signed out when the session is over."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, WebSocket, expect

from tests.conftest import EngineUrls
from tests.e2e.conftest import Contexts, LiveServer, serve
from tests.e2e.demo import Demo, Doctor
from tests.e2e.helpers import first_slot_after, show_week_of, sign_in, slot_button

TOKEN_TTL_S = 5
SESSION_KEY = "markini.session"  # web/src/lib/session.ts
# Engine.IO message + Socket.IO CONNECT_ERROR, then the namespace: /availability, or the bell's
# /notifications, which may be refused first and refresh the token for both.
REFUSAL = re.compile(r"^44/(availability|notifications),")


@pytest.fixture(scope="module")
async def live(
    web_dist: Path,
    engine_urls: EngineUrls,
    template_db: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("e2e-sessions")
    async with serve(engine_urls, template_db, data_dir, access_token_ttl_s=TOKEN_TTL_S) as server:
        yield server


@pytest.fixture(scope="module")
async def demo(live: LiveServer) -> AsyncIterator[Demo]:
    # The admin token that verifies doctors outlives the short tokens under test.
    settings = live.settings.model_copy(update={"access_token_ttl_s": 3600})
    async with Demo.open(live.url, settings, live.database_url) as made:
        yield made


async def _booked_by_someone_else(demo: Demo, doctor: Doctor, slot: dict[str, Any]) -> None:
    other = await demo.patient("Bob")
    await demo.sign_in_again(other.account)  # its token from sign-up may have expired already
    await demo.book(other, doctor, slot)


async def _spoil_stored_tokens(page: Page, **fields: str) -> None:
    """Replace tokens the page keeps; the access token still looks fresh to the page."""
    await page.evaluate(
        """([key, fields]) => {
            const stored = JSON.parse(localStorage.getItem(key));
            localStorage.setItem(key, JSON.stringify(
                {...stored, ...fields, expiresAt: Date.now() + 3600 * 1000}));
        }""",
        [SESSION_KEY, fields],
    )


def _record_refusals(page: Page) -> list[dict[str, Any]]:
    """The connect_error packets the server sends the page's sockets."""
    refusals: list[dict[str, Any]] = []

    def frame(payload: str | bytes) -> None:
        found = REFUSAL.match(payload) if isinstance(payload, str) else None
        if found is not None:
            refusals.append(json.loads(payload[found.end() :]))

    def opened(socket: WebSocket) -> None:
        socket.on("framereceived", frame)

    page.on("websocket", opened)
    return refusals


async def test_the_grid_stays_live_after_the_access_token_expires(
    contexts: Contexts, demo: Demo
) -> None:
    doctor = await demo.doctor("Expiry")
    alice = await demo.patient("Alice")
    slot = first_slot_after(await demo.slots(doctor, days=14), timedelta(hours=2))

    page = await contexts.new_page()
    await sign_in(page, alice.account)
    await page.goto(f"/doctors/{doctor.id}")
    await show_week_of(page, slot["start"])
    await expect(page.get_by_text("Live: slots update")).to_be_visible()

    # At expiry the server ends the socket; the page refreshes its token and connects again.
    reconnected = page.get_by_text("Reconnected: availability is up to date")
    await expect(reconnected).to_be_visible(timeout=(TOKEN_TTL_S + 10) * 1000)
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    await _booked_by_someone_else(demo, doctor, slot)
    await expect(slot_button(page, slot["start"])).to_have_count(0)


async def test_a_refused_token_is_refreshed_and_the_grid_goes_live(
    contexts: Contexts, demo: Demo
) -> None:
    doctor = await demo.doctor("Refused")
    alice = await demo.patient("Alice")
    slot = first_slot_after(await demo.slots(doctor, days=14), timedelta(hours=2))

    page = await contexts.new_page()
    await sign_in(page, alice.account)
    await _spoil_stored_tokens(page, access="not-a-jwt")
    refusals = _record_refusals(page)
    await page.goto(f"/doctors/{doctor.id}")
    await show_week_of(page, slot["start"])
    await expect(page.get_by_text("Live: slots update")).to_be_visible()

    assert refusals[0]["data"]["code"] == "unauthenticated"  # docs/realtime.md's error shape
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    await _booked_by_someone_else(demo, doctor, slot)
    await expect(slot_button(page, slot["start"])).to_have_count(0)


async def test_a_session_that_cannot_be_refreshed_signs_out_and_the_grid_stays_live(
    contexts: Contexts, demo: Demo
) -> None:
    doctor = await demo.doctor("Ended")
    alice = await demo.patient("Alice")
    slot = first_slot_after(await demo.slots(doctor, days=14), timedelta(hours=2))

    page = await contexts.new_page()
    await sign_in(page, alice.account)
    await _spoil_stored_tokens(page, access="not-a-jwt", refresh="not-a-refresh-token")
    await page.goto(f"/doctors/{doctor.id}")
    await show_week_of(page, slot["start"])

    await expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    await expect(page.get_by_text("Live: slots update")).to_be_visible()  # anonymous now
    await _booked_by_someone_else(demo, doctor, slot)
    await expect(slot_button(page, slot["start"])).to_have_count(0)
