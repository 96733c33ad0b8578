"""Every refusal a person sees is in their language (#17): the web app translates the server's
problem and field-error codes. In French here: a 429, a state-machine refusal and the
availability editor's field errors, shown on the row they concern (desktop and phone)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.conftest import EngineUrls
from tests.e2e.conftest import Contexts, LiveServer, serve
from tests.e2e.demo import Demo
from tests.e2e.helpers import CHANGEABLE_AFTER, first_slot_after, in_french, sign_in

# Two reset links a minute per address and e-mail: the third request is refused with a 429.
FORGOT_LIMIT = "2/minute"
MONDAY = {"day_of_week": 1, "start": "09:00", "end": "12:00", "visit_type": "in-person"}
ONE_MONDAY_RULE = [{**MONDAY, "slot_minutes": 20}]


@pytest.fixture(scope="module")
async def live(
    web_dist: Path,
    engine_urls: EngineUrls,
    template_db: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("e2e-errors")
    async with serve(engine_urls, template_db, data_dir, forgot_rate_limit=FORGOT_LIMIT) as server:
        yield server


async def test_too_many_requests_reads_in_french(contexts: Contexts, demo: Demo) -> None:
    email = "someone@markini.test"
    for _ in range(2):
        answer = await demo.http.post("/api/v1/auth/forgot-password", json={"email": email})
        assert answer.status_code == 202, answer.text
    page = await contexts.new_page(locale="fr-FR")
    await page.goto("/forgot-password")
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_role("button", name="Envoyer le lien").click()

    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("Trop de tentatives. Réessayez dans")
    await expect(alert).not_to_contain_text("Too many")


async def test_an_action_the_appointment_no_longer_allows_is_refused_in_french(
    contexts: Contexts, demo: Demo
) -> None:
    doctor = await demo.doctor("Refus")
    patient = await demo.patient("Paul", "Annule")
    slot = first_slot_after(await demo.slots(doctor, days=14), CHANGEABLE_AFTER)
    appointment = await demo.book(patient, doctor, slot)
    page = await contexts.new_page()
    await sign_in(page, doctor.account)
    await in_french(page)
    await page.goto(f"/agenda/appointments/{appointment['id']}")
    confirm = page.get_by_role("button", name="Confirmer")
    await expect(confirm).to_be_visible()
    # The patient's card loaded first: once the appointment is cancelled the doctor may no
    # longer open the record (a cancelled appointment gives no access), which would be a race.
    await expect(page.locator("#patient-title + dl")).to_contain_text("Paul Annule")
    await expect(page.locator(".card .loading")).to_have_count(0)

    await demo.cancel(patient, appointment["id"])  # meanwhile, the patient cancels
    await confirm.click()

    alert = page.get_by_role("alert")
    await expect(alert).to_have_text(
        "Ce n’est pas possible pour un rendez-vous au statut « annulé »."
    )


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
async def test_availability_errors_show_in_french_on_the_row_they_concern(
    contexts: Contexts, demo: Demo, phone: bool
) -> None:
    doctor = await demo.doctor("Horaires", hours=ONE_MONDAY_RULE)
    page = await contexts.new_page(phone=phone)
    await sign_in(page, doctor.account)
    await in_french(page)
    await page.goto("/availability")
    first = page.get_by_role("group", name="Horaires hebdomadaires, ligne 1")
    # A second row: Monday 09:00-12:00 again, which overlaps the first.
    await page.get_by_role("button", name="Ajouter des horaires").click()
    await first.get_by_label("Durée d’un créneau (min)").fill("25")
    await page.get_by_role("button", name="Enregistrer", exact=True).click()

    # The summary at the top names each place in words and takes the focus.
    summary = page.locator(".error-summary")
    await expect(summary).to_be_focused()
    await expect(summary).to_contain_text("Certaines entrées sont à corriger")
    await expect(summary.get_by_role("link")).to_have_text(
        [
            "Horaires hebdomadaires, ligne 1, Durée d’un créneau (min) : Des créneaux de 25 "
            "minutes ne remplissent pas 09:00–12:00 exactement.",
            "Horaires hebdomadaires, ligne 2 : Chevauche les horaires de la ligne 1.",
        ]
    )
    await expect(page.locator("body")).not_to_contain_text("rules.")

    # Beside the field it concerns: invalid, and described by the message.
    slot = first.get_by_label("Durée d’un créneau (min)")
    await expect(slot).to_have_attribute("aria-invalid", "true")
    await expect(slot).to_have_accessible_description(
        "Des créneaux de 25 minutes ne remplissent pas 09:00–12:00 exactement."
    )
    # On the row as a whole: the row's group is described by it.
    second = page.get_by_role("group", name="Horaires hebdomadaires, ligne 2")
    await expect(second).to_have_accessible_description("Chevauche les horaires de la ligne 1.")
    await expect(second.locator(".row-error")).to_be_visible()

    # The summary's link leads to the row.
    await summary.get_by_role("link").nth(1).click()
    await expect(page).to_have_url(f"{page.url.split('#')[0]}#availability-rules-2")
