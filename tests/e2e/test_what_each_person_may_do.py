"""Issue #17: names in the agenda, actions offered only when allowed, state kept on the way."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from playwright.async_api import expect

from tests.e2e.conftest import Contexts
from tests.e2e.demo import OPEN_HOURS, REASONS, Demo, _check
from tests.e2e.helpers import (
    CHANGEABLE_AFTER,
    first_slot_after,
    show_week_of,
    sign_in,
    two_slots_one_day,
)


async def test_the_week_names_every_patient_beside_a_cancelled_appointment(
    contexts: Contexts, demo: Demo
) -> None:
    doctor = await demo.doctor("Names")
    staying, leaving = await demo.patient("Léa", "Roux"), await demo.patient("Hugo", "Blanc")
    first, second = two_slots_one_day(await demo.slots(doctor, days=14), CHANGEABLE_AFTER)
    await demo.book(staying, doctor, first)
    gone = await demo.book(leaving, doctor, second)
    await demo.cancel(leaving, gone["id"])  # before the agenda opens: its patient is not readable

    page = await contexts.new_page()
    await sign_in(page, doctor.account)
    await expect(page).to_have_url(re.compile(r"/agenda$"))
    await page.get_by_role("tab", name="Week").click()
    await show_week_of(page, first["start"], next_button="Next", previous_button="Previous")

    await expect(page.locator(".agenda-row", has_text="Léa Roux")).to_contain_text("First visit")
    await expect(page.locator(".agenda-row", has_text="Hugo Blanc")).to_contain_text("Cancelled")
    await expect(page.locator(".agenda-who > a", has_text=re.compile(r"^Patient$"))).to_have_count(
        0
    )


async def test_a_patient_inside_the_cutoff_is_told_instead_of_offered_cancel_or_move(
    contexts: Contexts, demo: Demo
) -> None:
    doctor = await demo.doctor("Cutoff")
    patient = await demo.patient("Inès", "Garcia")
    # Open 07:00-22:00 every day without notice: the first free slot is always within 24 h.
    soon = (await demo.slots(doctor, days=2))[0]
    later = first_slot_after(await demo.slots(doctor, days=7), CHANGEABLE_AFTER)
    await demo.book(patient, doctor, soon)
    await demo.book(patient, doctor, later)

    page = await contexts.new_page(phone=True)
    await sign_in(page, patient.account)
    await page.goto("/appointments")
    cards = page.locator(".card.appointment")
    await expect(cards).to_have_count(2)
    near, far = cards.nth(0), cards.nth(1)
    await expect(near.get_by_text("Online changes closed")).to_be_visible()
    await expect(near.get_by_role("button", name="Cancel")).to_have_count(0)
    await expect(near.get_by_role("button", name="Move")).to_have_count(0)
    await expect(far.get_by_role("button", name="Cancel")).to_be_visible()
    await expect(far.get_by_role("button", name="Move")).to_be_visible()


async def test_the_doctor_is_offered_completion_only_once_the_visit_started(
    contexts: Contexts, demo: Demo
) -> None:
    doctor = await demo.doctor("Outcome")
    patient = await demo.patient("Paul", "Henry")
    slot = (await demo.slots(doctor, days=7))[-1]
    appointment = await demo.book(patient, doctor, slot)

    page = await contexts.new_page()
    await sign_in(page, doctor.account)
    await page.goto(f"/agenda/appointments/{appointment['id']}")
    await expect(page.get_by_role("button", name="Confirm")).to_be_visible()
    await expect(page.get_by_role("button", name="Mark as completed")).to_have_count(0)
    await expect(page.get_by_role("button", name="Mark as no-show")).to_have_count(0)
    await expect(page.get_by_text("once the appointment has started")).to_be_visible()


async def test_booking_inside_the_cutoff_warns_first_and_the_note_survives_a_reload(
    contexts: Contexts, demo: Demo
) -> None:
    doctor = await demo.doctor("Draft")
    patient = await demo.patient("Noé", "Petit")
    soon = (await demo.slots(doctor, days=2))[0]
    query = {"doctor": doctor.id, "start": soon["start"], "end": soon["end"], "visit": "in-person"}

    page = await contexts.new_page(phone=True)
    await sign_in(page, patient.account)
    await page.goto(f"/book?{urlencode(query)}")
    await expect(page.get_by_text("cannot be cancelled or moved online")).to_be_visible()
    await page.get_by_label("Note for the doctor").fill("Bring my ECG from May")
    await page.reload()
    await expect(page.get_by_label("Note for the doctor")).to_have_value("Bring my ECG from May")
    await page.get_by_role("button", name="Confirm the appointment").click()
    await expect(page.get_by_text("Your appointment is booked")).to_be_visible()
    await page.goto(f"/book?{urlencode(query)}")
    await expect(page.get_by_label("Note for the doctor")).to_have_value("")


async def test_a_new_visit_reason_reaches_an_open_doctor_page_without_reload(
    contexts: Contexts, demo: Demo
) -> None:
    doctor = await demo.doctor("Reasons")
    page = await contexts.new_page()
    await page.goto(f"/doctors/{doctor.id}")
    reason = page.get_by_label("Reason for the visit")
    await expect(reason.locator("option", has_text="Follow-up")).to_have_count(1)
    # Subscribed before the change, so it cannot slip in before the page listens.
    await expect(page.get_by_text("Live: slots update")).to_be_visible()

    body = {
        "rules": OPEN_HOURS,
        "exceptions": [],
        "reasons": [
            *REASONS,
            {"name": "Sports check-up", "duration_minutes": 30, "visit_types": ["in-person"]},
        ],
        "settings": {"min_notice_minutes": 0, "max_horizon_days": 60, "buffer_minutes": 0},
    }
    _check(
        await demo.http.put(
            f"/api/v1/doctors/{doctor.id}/availability", json=body, headers=doctor.account.headers
        )
    )

    await expect(reason.locator("option", has_text="Sports check-up")).to_have_count(1)


async def test_the_availability_editor_saves_again_with_a_time_off_and_keeps_the_location(
    contexts: Contexts, demo: Demo
) -> None:
    hours = [{**rule, "location": "Cabinet"} for rule in OPEN_HOURS if rule["day_of_week"] <= 6]
    off = {"kind": "time-off", "start_date": "2099-01-05", "note": "Congress"}
    doctor = await demo.doctor("Editor", hours=hours, exceptions=[off])

    page = await contexts.new_page()
    await sign_in(page, doctor.account)
    await page.goto("/availability")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_text("Saved.")).to_be_visible()
    await page.get_by_role("button", name="Add opening hours").click()  # Monday 09:00-12:00
    await page.get_by_role("button", name="Save").click()
    overlap = "Weekly opening hours, row 7: Overlaps the opening hours of row 1."
    await expect(page.get_by_role("listitem").filter(has_text=overlap)).to_be_visible()
    await page.get_by_label("Day", exact=True).last.select_option("7")  # Sunday: free
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_text("Saved.")).to_be_visible()

    saved = _check(await demo.http.get(f"/api/v1/doctors/{doctor.id}/availability"))
    assert len(saved["rules"]) == len(hours) + 1
    assert {rule["location"] for rule in saved["rules"]} == {"Cabinet"}
    assert [e["note"] for e in saved["exceptions"]] == ["Congress"]
