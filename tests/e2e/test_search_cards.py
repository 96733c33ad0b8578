"""Search cards show a doctor's next free slot on the practice's clock, naming its zone when the
viewer's differs (issue #17 item 9): a Paris doctor seen from New York reads "09:00 AM Paris",
never a bare "03:00 AM"."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import BROWSER_ZONE, Contexts
from tests.e2e.demo import Demo, _check

VIEWER_ZONE = "America/New_York"


async def _indexed_next_slot(demo: Demo, last_name: str) -> datetime:
    """The doctor's next slot once the search indexer has caught up with the new doctor."""
    deadline = time.monotonic() + 15
    while True:
        found = _check(await demo.http.get("/api/v1/search/doctors", params={"q": last_name}))
        items: list[dict[str, Any]] = found["items"]
        if items and items[0]["next_available"]:
            assert items[0]["time_zone"] == "Europe/Paris"
            return datetime.fromisoformat(items[0]["next_available"])
        assert time.monotonic() < deadline, "the search index did not catch up"
        await asyncio.sleep(0.1)


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
@pytest.mark.parametrize(
    ("locale", "label", "clock"),
    [("en-US", "Next available", "%I:%M %p"), ("fr-FR", "Prochaine disponibilité", "%H:%M")],
    ids=["en", "fr"],
)
async def test_a_new_york_viewer_sees_the_paris_slot_with_its_zone(
    contexts: Contexts, demo: Demo, phone: bool, locale: str, label: str, clock: str
) -> None:
    doctor = await demo.doctor("Fuseau")
    slot = await _indexed_next_slot(demo, doctor.last_name)
    page = await contexts.new_page(phone=phone, locale=locale, zone=VIEWER_ZONE)
    await page.goto(f"/?q={doctor.last_name}")

    card = page.locator(".doctor-card", has=page.get_by_role("link", name=doctor.name))
    next_slot = card.locator(".next-slot")
    await expect(next_slot).to_contain_text(label)
    # Chromium puts a narrow no-break space before AM/PM.
    shown = (await next_slot.inner_text()).replace("\u202f", " ").replace("\xa0", " ")
    paris = slot.astimezone(ZoneInfo(BROWSER_ZONE)).strftime(clock)
    new_york = slot.astimezone(ZoneInfo(VIEWER_ZONE)).strftime(clock)
    assert f"{paris} Paris" in shown, shown
    assert new_york not in shown, shown


async def test_a_viewer_in_the_practice_s_zone_sees_no_zone_name(
    contexts: Contexts, demo: Demo
) -> None:
    doctor = await demo.doctor("Local")
    slot = await _indexed_next_slot(demo, doctor.last_name)
    page = await contexts.new_page(locale="en-GB")  # Europe/Paris, as the practice
    await page.goto(f"/?q={doctor.last_name}")

    card = page.locator(".doctor-card", has=page.get_by_role("link", name=doctor.name))
    shown = await card.locator(".next-slot").inner_text()
    assert slot.astimezone(ZoneInfo(BROWSER_ZONE)).strftime("%H:%M") in shown, shown
    assert "Paris" not in shown, shown
