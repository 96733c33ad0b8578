"""Amounts typed in the currency's own unit, and times in the viewer's conventions."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import Contexts
from tests.e2e.demo import Demo, _check
from tests.e2e.helpers import in_french, sign_in

AM_PM = re.compile(r"\b(AM|PM)\b", re.IGNORECASE)
TWENTY_FOUR_HOUR = re.compile(r"^\s*\d{2}:\d{2}\s*$")


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
async def test_a_visit_reason_fee_is_typed_in_euros_and_kept_in_cents(
    contexts: Contexts, demo: Demo, phone: bool
) -> None:
    doctor = await demo.doctor("Tarif")
    page = await contexts.new_page(phone=phone)
    await sign_in(page, doctor.account)
    await page.goto("/availability")

    fee = page.get_by_label("Fee in EUR (optional)").first
    await fee.fill("40.50")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_text("Saved.")).to_be_visible()
    saved = _check(await demo.http.get(f"/api/v1/doctors/{doctor.id}/availability"))
    assert [r["fee_override"] for r in saved["reasons"]] == [4050, None]

    await page.reload()
    await expect(page.get_by_label("Fee in EUR (optional)").first).to_have_value("40.50")
    await in_french(page)
    await expect(page.get_by_label("Tarif en EUR (facultatif)").first).to_have_value("40.50")


async def test_a_fee_with_a_comma_and_no_decimals_is_read_as_whole_euros(
    contexts: Contexts, demo: Demo
) -> None:
    doctor = await demo.doctor("Virgule")
    page = await contexts.new_page()
    await sign_in(page, doctor.account)
    await page.goto("/availability")
    await in_french(page)

    await page.get_by_label("Tarif en EUR (facultatif)").first.fill("35")
    await page.get_by_label("Tarif en EUR (facultatif)").last.fill("22,5")
    await page.get_by_role("button", name="Enregistrer", exact=True).click()
    await expect(page.get_by_text("Enregistré.")).to_be_visible()
    saved = _check(await demo.http.get(f"/api/v1/doctors/{doctor.id}/availability"))
    assert [r["fee_override"] for r in saved["reasons"]] == [3500, 2250]


@pytest.mark.parametrize(
    ("locale", "twelve_hour"),
    [("en-GB", False), ("en-US", True), ("fr-FR", False)],
)
async def test_slot_times_follow_the_viewers_locale(
    contexts: Contexts, demo: Demo, locale: str, twelve_hour: bool
) -> None:
    doctor = await demo.doctor("Horloge")
    page = await contexts.new_page(locale=locale)
    await page.goto(f"/doctors/{doctor.id}")
    first = page.locator("button.slot").first
    await expect(first).to_be_visible()

    shown = await first.inner_text()
    if twelve_hour:
        assert AM_PM.search(shown), shown
    else:
        assert TWENTY_FOUR_HOUR.match(shown), shown
