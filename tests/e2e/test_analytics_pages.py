"""Issue #23: the analytics charts render with data in Chromium (desktop and phone), for the
admin and on the doctor's own dashboard, with no serious axe violations."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import Contexts, LiveServer
from tests.e2e.demo import Demo
from tests.e2e.helpers import axe_violations, in_french, sign_in
from tests.e2e.test_admin_pages import _admin


async def _bookings_chart_has_data(page: Page) -> None:
    chart = page.locator("figure.chart", has_text="Bookings per day")
    await expect(chart.locator("canvas").first).to_be_visible()
    await chart.get_by_text("Show the data as a table").click()
    cells = chart.locator("tbody td")
    # Today's bookings (one per test run on this module's server) are counted.
    await expect(cells.filter(has_text=re.compile(r"^[1-9][0-9]*$"))).not_to_have_count(0)
    assert await axe_violations(page) == []


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
async def test_charts_render_with_data(
    contexts: Contexts, demo: Demo, live: LiveServer, phone: bool
) -> None:
    doctor = await demo.doctor("Charts")
    patient = await demo.patient("Chloé", "Chart")
    await demo.book(patient, doctor, (await demo.slots(doctor))[0])
    admin = await _admin(live)

    page = await contexts.new_page(phone=phone, inject_scripts=True)
    await sign_in(page, admin)
    await page.goto("/admin/analytics")
    await _bookings_chart_has_data(page)
    specialties = page.locator("figure.chart", has_text="Busiest specialties")
    await expect(specialties.locator("canvas").first).to_be_visible()

    own = await contexts.new_page(phone=phone, inject_scripts=True)
    await sign_in(own, doctor.account)
    await own.goto("/stats")
    await _bookings_chart_has_data(own)
    await expect(own.get_by_text("Busiest specialties")).to_have_count(0)


async def test_the_figures_read_in_french(contexts: Contexts, demo: Demo, live: LiveServer) -> None:
    """French numbers (a decimal comma), specialty names rather than their codes, and the
    connections count in the right number."""
    doctor = await demo.doctor("Chiffres", specialty="cardiology")
    patient = await demo.patient("Félix", "Chiffre")
    await demo.book(patient, doctor, (await demo.slots(doctor))[0])
    admin = await _admin(live)
    page = await contexts.new_page(phone=True)
    await sign_in(page, admin)
    await page.goto("/admin/analytics")
    await in_french(page)
    rates = page.locator(
        "section", has=page.get_by_role("heading", name="Issue des consultations prévues")
    )
    await expect(rates).to_contain_text("Taux d’annulation")
    assert not re.search(r"\d\.\d", await rates.inner_text()), "a decimal point in French"
    lead = page.locator(
        "section", has=page.get_by_role("heading", name="Délai entre réservation et consultation")
    )
    assert not re.search(r"\d\.\d", await lead.inner_text()), "a decimal point in French"
    specialties = page.locator("figure.chart", has_text="Spécialités les plus demandées")
    await specialties.get_by_text("Afficher les données en tableau").click()
    await expect(specialties.locator("tbody th", has_text="Cardiologie")).to_have_count(1)
    await expect(specialties.locator("tbody th", has_text="cardiology")).to_have_count(0)
    await expect(page.get_by_text(re.compile(r"^1 connexions"))).to_have_count(0)
    revenue = page.locator("figure.chart", has_text="Chiffre d’affaires par jour")
    if await revenue.count():
        await expect(revenue.locator("tbody th", has_text=re.compile(r"\beur\b"))).to_have_count(0)
