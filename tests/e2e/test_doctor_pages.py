"""Doctor-side pages and page-wide qualities: live agenda, accessibility, French, screenshots."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import expect

from tests.e2e.conftest import Contexts
from tests.e2e.demo import Demo
from tests.e2e.helpers import (
    CHANGEABLE_AFTER,
    axe_violations,
    first_slot_after,
    in_french,
    show_week_of,
    sign_in,
    slot_button,
)


async def test_the_agenda_shows_bookings_and_cancellations_live(
    contexts: Contexts, demo: Demo
) -> None:
    doctor = await demo.doctor("Agenda")
    patient = await demo.patient("Alice", "Moreau")
    slot = first_slot_after(await demo.slots(doctor, days=14), CHANGEABLE_AFTER)

    page = await contexts.new_page()
    await sign_in(page, doctor.account)
    await expect(page).to_have_url(re.compile(r"/agenda$"))
    await page.get_by_role("tab", name="Week").click()
    await show_week_of(page, slot["start"], next_button="Next", previous_button="Previous")
    await expect(page.get_by_text("Live: new bookings")).to_be_visible()
    row = page.locator(".agenda-row", has_text="Alice Moreau")
    await expect(row).to_have_count(0)

    appointment = await demo.book(patient, doctor, slot)
    await expect(row).to_be_visible()  # no reload: /agenda pushed it
    await expect(row).to_contain_text("Scheduled")

    await demo.cancel(patient, appointment["id"])
    await expect(row).to_contain_text("Cancelled")

    await row.get_by_role("link", name="Alice Moreau").click()
    await expect(page.get_by_role("heading", name="Medical history")).to_be_visible()


async def test_main_pages_have_no_serious_accessibility_violations(
    contexts: Contexts, demo: Demo
) -> None:
    doctor = await demo.doctor("Axe")
    page = await contexts.new_page(inject_scripts=True)

    await page.goto(f"/?q={doctor.last_name}")
    await expect(page.get_by_role("link", name=doctor.name)).to_be_visible()
    assert await axe_violations(page) == []

    await page.goto(f"/doctors/{doctor.id}")
    await expect(page.locator("button.slot").first).to_be_visible()
    assert await axe_violations(page) == []

    await sign_in(page, doctor.account)
    await expect(page.get_by_text("Live: new bookings")).to_be_visible()
    assert await axe_violations(page) == []


async def test_the_doctor_page_speaks_french_once_chosen(contexts: Contexts, demo: Demo) -> None:
    doctor = await demo.doctor("Langue")
    page = await contexts.new_page()
    await page.goto(f"/doctors/{doctor.id}")
    await in_french(page)

    await expect(page.get_by_role("heading", name="Prendre rendez-vous")).to_be_visible()
    await expect(page.get_by_label("Type de consultation")).to_be_visible()
    await expect(page.get_by_role("button", name="Semaine suivante")).to_be_visible()
    await expect(page.get_by_text("Tarif de la consultation")).to_be_visible()
    assert await page.evaluate("document.documentElement.lang") == "fr"

    await page.reload()  # remembered
    await expect(page.get_by_role("heading", name="Prendre rendez-vous")).to_be_visible()


async def test_screenshots_of_the_main_pages(
    contexts: Contexts, demo: Demo, screenshots: Path
) -> None:
    doctor = await demo.doctor("Claire", "Lefèvre")
    patient = await demo.patient("Jeanne", "Martin")
    slot = first_slot_after(await demo.slots(doctor, days=14), CHANGEABLE_AFTER)
    await demo.book(patient, doctor, slot)

    for phone in (False, True):
        suffix = "phone" if phone else "desktop"
        page = await contexts.new_page(phone=phone)
        await page.goto("/?specialty=cardiology")
        await expect(page.locator(".doctor-card").first).to_be_visible()
        await page.screenshot(path=str(screenshots / f"home-{suffix}.png"), full_page=True)

        await page.goto(f"/doctors/{doctor.id}")
        await show_week_of(page, slot["start"])
        await expect(page.locator("button.slot").first).to_be_visible()
        await page.screenshot(path=str(screenshots / f"doctor-{suffix}.png"), full_page=True)

        await sign_in(page, patient.account)
        await page.goto("/appointments")
        await expect(page.locator(".appointment").get_by_text(doctor.name)).to_be_visible()
        await page.screenshot(path=str(screenshots / f"appointments-{suffix}.png"), full_page=True)

        other = await demo.doctor("Axel", "Bernard")
        await page.goto(f"/doctors/{other.id}")
        first = (await demo.slots(other))[0]
        await show_week_of(page, first["start"])
        await slot_button(page, first["start"]).click()
        await expect(page.get_by_role("heading", name="Confirm your appointment")).to_be_visible()
        await page.screenshot(path=str(screenshots / f"booking-{suffix}.png"), full_page=True)

        doctor_page = await contexts.new_page(phone=phone)
        await sign_in(doctor_page, doctor.account)
        await doctor_page.get_by_role("tab", name="Week").click()
        await show_week_of(doctor_page, slot["start"], next_button="Next")
        await expect(doctor_page.locator(".agenda-row").first).to_be_visible()
        await doctor_page.screenshot(path=str(screenshots / f"agenda-{suffix}.png"), full_page=True)
        await doctor_page.goto("/availability")
        await expect(
            doctor_page.get_by_role("group", name="Weekly opening hours", exact=True)
        ).to_be_visible()
        await doctor_page.screenshot(
            path=str(screenshots / f"availability-{suffix}.png"), full_page=True
        )
