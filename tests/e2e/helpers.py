"""Browser steps shared by the e2e tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from playwright.async_api import Locator, Page, expect

from tests.e2e.conftest import BROWSER_ZONE
from tests.e2e.demo import Account

# Patients may cancel or move until 24 h before (server default): tests that do pick later slots.
CHANGEABLE_AFTER = timedelta(hours=25)
MAX_WEEK_STEPS = 12


async def sign_in(page: Page, account: Account, path: str = "/sign-in") -> None:
    await page.goto(path)
    await page.get_by_label("Email").fill(account.email)
    await page.get_by_label("Password").fill(account.password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def _monday(moment: datetime) -> datetime:
    local = moment.astimezone(ZoneInfo(BROWSER_ZONE))
    return (local - timedelta(days=local.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )


async def show_week_of(
    page: Page, start: str, next_button: str = "Next week", previous_button: str = "Previous week"
) -> None:
    """Step through weeks until the page shows the one holding `start` (browser's zone).

    Reads the week the page shows (its `data-week`, a Monday) after each step rather than
    counting from today: a slot grid opens on the week of the next free slot when the current
    one has none, which may happen just before the first step.
    """
    target = _monday(datetime.fromisoformat(start)).date().isoformat()
    week = page.locator("[data-week]").first
    for _ in range(MAX_WEEK_STEPS):
        shown = await week.get_attribute("data-week")
        assert shown is not None
        if shown == target:
            return
        button = next_button if shown < target else previous_button
        await page.get_by_role("button", name=button, exact=True).first.click()
        await expect(week).not_to_have_attribute("data-week", shown)
    raise AssertionError(f"the page never showed the week of {start}")


def slot_button(page: Page, start: str) -> Locator:
    """The grid marks each slot with its start in UTC (JavaScript's toISOString form)."""
    utc = datetime.fromisoformat(start).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return page.locator(f'button.slot[data-start="{utc}"]')


AXE = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Critical and serious WCAG A/AA violations axe-core finds on the page as it is now."""
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate(
        """async () => (await axe.run(document, {
            runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}
        })).violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                  nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}))"""
    )
    return [v for v in result if v["impact"] in ("critical", "serious")]


def first_slot_after(slots: list[dict[str, Any]], delay: timedelta) -> dict[str, Any]:
    floor = datetime.now(UTC) + delay
    return next(s for s in slots if datetime.fromisoformat(s["start"]) > floor)


def two_slots_one_day(
    slots: list[dict[str, Any]], delay: timedelta
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two slots after `delay` on one day of the browser's zone (so in one viewed week)."""

    def day(slot: dict[str, Any]) -> date:
        return datetime.fromisoformat(slot["start"]).astimezone(ZoneInfo(BROWSER_ZONE)).date()

    floor = datetime.now(UTC) + delay
    later = [s for s in slots if datetime.fromisoformat(s["start"]) > floor]
    return next((a, b) for a, b in zip(later, later[1:], strict=False) if day(a) == day(b))


async def in_french(page: Page) -> None:
    """Switch the app to French with the header's language switch (not the first control whose
    label holds "Language": the search page has "Spoken language"), and wait for it."""
    await page.locator("header .lang select").select_option("fr")
    await expect(page.locator("html")).to_have_attribute("lang", "fr")
