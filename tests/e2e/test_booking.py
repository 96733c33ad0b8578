"""Booking in the browser: the live grid across two patients, a lost race, a phone screen."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.async_api import Route, expect

from server import clock
from tests.e2e.conftest import BROWSER_ZONE, Contexts
from tests.e2e.demo import Demo
from tests.e2e.helpers import (
    CHANGEABLE_AFTER,
    first_slot_after,
    show_week_of,
    sign_in,
    slot_button,
    two_slots_one_day,
)


async def test_the_doctor_page_opens_on_the_week_of_the_next_free_slot(
    contexts: Contexts, demo: Demo
) -> None:
    # Free only on one day ten days ahead: the current week and the next are empty whatever day
    # it is, like every Sunday evening for any practice.
    day = (clock.now().astimezone(ZoneInfo(BROWSER_ZONE)) + timedelta(days=10)).date()
    only_day = {
        "kind": "extra-hours",
        "start_date": day.isoformat(),
        "end_date": day.isoformat(),
        "start": "10:00",
        "end": "11:00",
        "slot_minutes": 30,
        "visit_type": "in-person",
    }
    doctor = await demo.doctor("Later", time_zone=BROWSER_ZONE, hours=[], exceptions=[only_day])
    first, second = await demo.slots(doctor, days=14)

    page = await contexts.new_page()
    await page.goto(f"/doctors/{doctor.id}")
    await expect(slot_button(page, first["start"])).to_be_visible()
    await expect(slot_button(page, second["start"])).to_be_visible()


async def test_a_slot_booked_by_one_patient_leaves_the_other_patients_grid_live(
    contexts: Contexts, demo: Demo
) -> None:
    doctor = await demo.doctor("Live")
    alice, bob = await demo.patient("Alice"), await demo.patient("Bob")
    slot = first_slot_after(await demo.slots(doctor, days=14), CHANGEABLE_AFTER)

    page_a = await contexts.new_page()
    await sign_in(page_a, alice.account)
    await page_a.goto(f"/doctors/{doctor.id}")
    await show_week_of(page_a, slot["start"])
    await expect(page_a.get_by_text("Live: slots update")).to_be_visible()
    await expect(slot_button(page_a, slot["start"])).to_have_count(1)

    page_b = await contexts.new_page()
    await sign_in(page_b, bob.account)
    await page_b.goto(f"/doctors/{doctor.id}")
    await show_week_of(page_b, slot["start"])
    await slot_button(page_b, slot["start"]).click()
    await page_b.get_by_role("button", name="Confirm the appointment").click()
    await expect(page_b.get_by_role("heading", name="Your appointment is booked")).to_be_visible()

    # Alice never reloads: the booking reaches her grid over Socket.IO.
    await expect(slot_button(page_a, slot["start"])).to_have_count(0)

    await page_b.get_by_role("link", name="See my appointments").click()
    await page_b.get_by_role("button", name="Cancel").click()
    await page_b.get_by_role("button", name="Yes, cancel it").click()
    await expect(
        page_b.get_by_role("status").filter(has_text="The appointment is cancelled")
    ).to_be_visible()

    await expect(slot_button(page_a, slot["start"])).to_have_count(1)


async def test_losing_a_race_for_a_slot_offers_the_nearest_free_ones(
    contexts: Contexts, demo: Demo
) -> None:
    doctor = await demo.doctor("Race")
    alice, bob = await demo.patient("Alice"), await demo.patient("Bob")
    slot = first_slot_after(await demo.slots(doctor, days=14), CHANGEABLE_AFTER)

    page = await contexts.new_page()
    await sign_in(page, alice.account)
    await page.goto(f"/doctors/{doctor.id}")
    await show_week_of(page, slot["start"])
    await slot_button(page, slot["start"]).click()
    await expect(page.get_by_role("heading", name="Confirm your appointment")).to_be_visible()

    await demo.book(bob, doctor, slot)  # Bob is faster
    await page.get_by_role("button", name="Confirm the appointment").click()

    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("This time was just taken")
    alternatives = alert.get_by_role("button", name=re.compile("^Choose "))
    await expect(alternatives.first).to_be_visible()
    await alternatives.first.click()
    await page.get_by_role("button", name="Confirm the appointment").click()
    await expect(page.get_by_role("heading", name="Your appointment is booked")).to_be_visible()


async def test_a_booking_whose_answer_is_lost_is_retried_with_its_key_and_books_once(
    contexts: Contexts, demo: Demo
) -> None:
    doctor = await demo.doctor("Retry")
    patient = await demo.patient("Rita")
    slot = first_slot_after(await demo.slots(doctor, days=14), CHANGEABLE_AFTER)
    keys: list[str | None] = []

    async def lose_first_answer(route: Route) -> None:
        if route.request.method != "POST":
            await route.continue_()
            return
        keys.append(route.request.headers.get("idempotency-key"))
        answer = await route.fetch()  # the server books...
        if len(keys) == 1:
            await route.abort("timedout")  # ...but the phone never hears of it
        else:
            await route.fulfill(response=answer)

    page = await contexts.new_page()
    await sign_in(page, patient.account)
    await page.route("**/api/v1/appointments", lose_first_answer)
    await page.goto(f"/doctors/{doctor.id}")
    await show_week_of(page, slot["start"])
    await slot_button(page, slot["start"]).click()
    await page.get_by_role("button", name="Confirm the appointment").click()
    await expect(page.get_by_role("heading", name="Your appointment is booked")).to_be_visible()
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1], keys
    mine = await demo.http.get(
        f"/api/v1/appointments/patient/{patient.patient_id}", headers=patient.account.headers
    )
    starts = [datetime.fromisoformat(a["start"]) for a in mine.json()["items"]]
    assert starts == [datetime.fromisoformat(slot["start"])]


async def test_booking_on_a_phone_screen(contexts: Contexts, demo: Demo) -> None:
    doctor = await demo.doctor("Phone")
    patient = await demo.patient("Paul")
    slot = (await demo.slots(doctor, days=14))[0]

    page = await contexts.new_page(phone=True)
    await page.goto(f"/doctors/{doctor.id}")
    await show_week_of(page, slot["start"])
    await slot_button(page, slot["start"]).click()
    # Signed out: sign-in first, then straight back to the chosen slot.
    await expect(page).to_have_url(re.compile(r"/sign-in\?next="))
    await page.get_by_label("Email").fill(patient.account.email)
    await page.get_by_label("Password").fill(patient.account.password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Confirm your appointment")).to_be_visible()
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways on a phone ({width}px wide)"
    await page.get_by_role("button", name="Confirm the appointment").click()
    await expect(page.get_by_role("heading", name="Your appointment is booked")).to_be_visible()


async def test_a_reschedule_inside_the_viewed_week_frees_the_old_slot_and_takes_the_new(
    contexts: Contexts, demo: Demo
) -> None:
    doctor = await demo.doctor("Move")
    alice = await demo.patient("Alice")
    old, new = two_slots_one_day(await demo.slots(doctor, days=14), CHANGEABLE_AFTER)
    appointment = await demo.book(alice, doctor, old)

    page = await contexts.new_page()
    await page.goto(f"/doctors/{doctor.id}")
    await show_week_of(page, old["start"])
    await expect(page.get_by_text("Live: slots update")).to_be_visible()
    await expect(page.locator(".slot-grid")).to_have_attribute("aria-busy", "false")
    await expect(slot_button(page, old["start"])).to_have_count(0)
    await expect(slot_button(page, new["start"])).to_have_count(1)

    # One change, two deltas with the same availability_version (released, then booked).
    await demo.reschedule(alice, appointment["id"], new)

    await expect(slot_button(page, old["start"])).to_have_count(1)
    await expect(slot_button(page, new["start"])).to_have_count(0)
