"""The relatives pages with the keyboard only, on a phone, in French from the start (issue #24):
the refused removal of a relative with an upcoming visit, and joining the waitlist for them."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from playwright.async_api import Page, expect

from tests.e2e.conftest import Contexts
from tests.e2e.demo import Demo
from tests.e2e.helpers import axe_violations, in_french, sign_in

EMMA = {
    "first_name": "Emma",
    "last_name": "Clavier",
    "date_of_birth": "2019-02-03",
    "relationship": "CHILD",
    "consent_basis": "legal_guardian",
    "consent_given": True,
    "can_view_history": False,
}


async def _tab_to(page: Page, selector: str) -> None:
    """Press Tab until the element `selector` names has the focus (as a keyboard user would)."""
    for _ in range(80):
        await page.keyboard.press("Tab")
        if await page.evaluate("s => document.activeElement?.matches(s) ?? false", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


async def test_the_refusal_and_the_for_whom_choice_work_with_the_keyboard_in_french(
    contexts: Contexts, demo: Demo
) -> None:
    doctor = await demo.doctor("Clavier")
    parent = await demo.patient("Paul", "Clavier")
    [slot] = (await demo.slots(doctor, days=14))[:1]
    added = await demo.http.post("/api/v1/me/relatives", json=EMMA, headers=parent.account.headers)
    assert added.status_code == 201, added.text
    emma: dict[str, Any] = added.json()
    booked = await demo.http.post(
        "/api/v1/appointments",
        json={
            "doctor_id": doctor.id,
            "start": slot["start"],
            "visit_type": slot["visit_type"],
            "patient_id": emma["id"],
        },
        headers=parent.account.headers,
    )
    assert booked.status_code == 201, booked.text

    page = await contexts.new_page(phone=True, inject_scripts=True)
    await sign_in(page, parent.account)
    await page.goto("/relatives")
    await in_french(page)
    await expect(page.get_by_role("button", name="Retirer Emma Clavier")).to_be_visible()
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await _tab_to(page, 'button[aria-label="Retirer Emma Clavier"]')
    await page.keyboard.press("Enter")
    refusal = page.get_by_role("listitem", name="Emma Clavier").get_by_role("alert")
    await expect(refusal).to_contain_text("1 rendez-vous à venir ne serait suivi par personne")
    await expect(refusal.get_by_role("listitem")).to_contain_text(f"avec Dr {doctor.first_name}")
    await _tab_to(page, "[role=alert] a")
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(rf"/appointments\?for={emma['id']}$"))
    await expect(page.get_by_test_id("only-for")).to_contain_text("Emma Clavier")
    assert await axe_violations(page) == []

    # The waitlist's "Pour qui": chosen with the arrow keys, joined with Enter.
    await page.goto(f"/waitlist?doctor={doctor.id}")
    await expect(page.get_by_label("Pour qui")).to_be_visible()
    await _tab_to(page, "select[name=for_whom]")
    await page.keyboard.press("ArrowDown")
    await expect(page.get_by_label("Pour qui")).to_have_value(emma["id"])
    await _tab_to(page, "form button[type=submit]")
    await page.keyboard.press("Enter")
    await expect(page.get_by_text("Emma Clavier est sur la liste d’attente.")).to_be_visible()
    await expect(page.get_by_text("Pour Emma Clavier", exact=True)).to_be_visible()
    assert await axe_violations(page) == []
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways on a phone ({width}px wide)"
    assert contexts.page_errors == []


async def test_the_refusal_gives_a_far_practices_clock_as_the_appointments_do(
    contexts: Contexts, demo: Demo
) -> None:
    """Emma's teleconsultation is with a doctor in Martinique, the parent's browser is in Paris:
    the appointments list says both clocks; the refused removal must not say only Paris's."""
    doctor = await demo.doctor("Loin", time_zone="America/Martinique")
    parent = await demo.patient("Anne", "Loin")
    [slot] = (await demo.slots(doctor, days=14))[:1]
    added = await demo.http.post(
        "/api/v1/me/relatives", json=EMMA | {"last_name": "Loin"}, headers=parent.account.headers
    )
    assert added.status_code == 201, added.text
    booked = await demo.http.post(
        "/api/v1/appointments",
        json={
            "doctor_id": doctor.id,
            "start": slot["start"],
            "visit_type": slot["visit_type"],
            "patient_id": added.json()["id"],
        },
        headers=parent.account.headers,
    )
    assert booked.status_code == 201, booked.text

    page = await contexts.new_page(phone=True)
    await sign_in(page, parent.account)
    await page.goto(f"/appointments?for={added.json()['id']}")
    await expect(page.locator("li.appointment")).to_contain_text("Martinique")
    await page.goto("/relatives")
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    card = page.get_by_role("listitem", name="Emma Loin")
    await card.get_by_role("button", name="Remove Emma Loin").click()
    item = card.get_by_role("alert").get_by_role("listitem")
    await expect(item).to_contain_text("with Dr ")
    await expect(item).to_contain_text("Martinique", timeout=1000)
