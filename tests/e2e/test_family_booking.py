"""Family and proxy booking in the browser (issue #24): a parent adds a child with consent,
books for her, sees the appointment under her name; the doctor sees who booked for whom."""

from __future__ import annotations

import asyncio

import pytest
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


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
async def test_a_parent_books_for_a_child_and_the_doctor_sees_who_booked(
    contexts: Contexts, demo: Demo, phone: bool
) -> None:
    doctor = await demo.doctor("Family")
    parent = await demo.patient("Claire", "Martin")
    slot = first_slot_after(await demo.slots(doctor, days=14), CHANGEABLE_AFTER)

    page = await contexts.new_page(phone=phone)
    await sign_in(page, parent.account)
    await page.goto("/relatives")
    await expect(page.get_by_role("heading", name="My relatives", exact=True)).to_be_visible()
    form = page.get_by_role("form", name="Add a relative")
    await form.get_by_label("First name").fill("Léa")
    await form.get_by_label("Last name").fill("Martin")
    await form.get_by_label("They are my…").select_option("CHILD")
    await form.get_by_label("I am their legal guardian (a minor)").check()
    # Without the consent box the browser refuses the form; with it, Léa is added.
    await form.get_by_label("I confirm this consent was given", exact=False).check()
    await form.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("listitem", name="Léa Martin")).to_be_visible()
    if phone:
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"the page scrolls sideways on a phone ({width}px wide)"

    await page.goto(f"/doctors/{doctor.id}")
    await show_week_of(page, slot["start"])
    await slot_button(page, slot["start"]).click()
    await expect(page.get_by_role("heading", name="Confirm your appointment")).to_be_visible()
    await page.get_by_label("Booking for").select_option(label="Léa Martin")
    await page.get_by_role("button", name="Confirm the appointment").click()
    await expect(page.get_by_role("heading", name="Your appointment is booked")).to_be_visible()
    await expect(page.get_by_text("For Léa")).to_be_visible()

    await page.get_by_role("link", name="See my appointments").click()
    # Exact: the bell's booking notice ends ", for Léa Martin" too.
    await expect(page.get_by_text("For Léa Martin", exact=True)).to_be_visible()

    listed = await demo.http.get(
        f"/api/v1/appointments/doctor/{doctor.id}", headers=doctor.account.headers
    )
    [appointment] = listed.json()["items"]
    doctor_page = await contexts.new_page()
    await sign_in(doctor_page, doctor.account)
    await doctor_page.goto(f"/agenda/appointments/{appointment['id']}")
    await expect(doctor_page.get_by_text("Booked by Claire Martin (parent)")).to_be_visible()
    assert contexts.page_errors == []


async def test_my_relatives_in_french_on_a_phone_is_accessible(
    contexts: Contexts, demo: Demo
) -> None:
    parent = await demo.patient("Odile", "Roux")
    page = await contexts.new_page(phone=True, inject_scripts=True)
    await sign_in(page, parent.account)
    await page.goto("/relatives")
    await expect(page.get_by_role("heading", name="My relatives", exact=True)).to_be_visible()
    await in_french(page)
    await expect(page.get_by_role("heading", name="Mes proches", exact=True)).to_be_visible()
    form = page.get_by_role("form", name="Ajouter un proche")
    await form.get_by_label("Prénom").fill("Jean")
    await form.get_by_label("Nom", exact=True).fill("Roux")
    await form.get_by_label("Date de naissance").fill("1948-04-02")
    await form.get_by_label("C’est mon/ma…").select_option("FTH")
    await form.get_by_label("La personne a donné son accord (majeur)").check()
    await form.get_by_label("Je confirme que ce consentement a été donné", exact=False).check()
    await form.get_by_role("button", name="Enregistrer").click()
    card = page.get_by_role("listitem", name="Jean Roux")
    await expect(card).to_contain_text("Père")
    assert await axe_violations(page) == []
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways on a phone ({width}px wide)"


async def test_a_birth_date_stays_on_its_day_west_of_utc(contexts: Contexts, demo: Demo) -> None:
    """A date of birth is a calendar day: a parent in New York sees 4 May, not 3 May (it was
    read as UTC midnight); on a phone the two consent bases sit on lines of their own."""
    parent = await demo.patient("Nora", "West")
    page = await contexts.new_page(phone=True, zone="America/New_York")
    await sign_in(page, parent.account)
    await page.goto("/relatives")
    form = page.get_by_role("form", name="Add a relative")
    await form.get_by_label("First name").fill("Iris")
    await form.get_by_label("Last name").fill("West")
    await form.get_by_label("Date of birth").fill("2018-05-04")
    guardian = form.get_by_label("I am their legal guardian (a minor)")
    adult = form.get_by_label("They agreed themselves (an adult)")
    guardian_box, adult_box = await guardian.bounding_box(), await adult.bounding_box()
    assert guardian_box and adult_box and adult_box["y"] > guardian_box["y"] + 5, (
        "the two consent bases share a line"
    )
    await form.get_by_label("I confirm this consent was given", exact=False).check()
    await form.get_by_role("button", name="Save").click()
    card = page.get_by_role("listitem", name="Iris West")
    await expect(card).to_contain_text("Friday, 4 May 2018")


async def test_their_appointments_lists_only_that_relatives(contexts: Contexts, demo: Demo) -> None:
    """ "Their appointments" on My relatives shows that relative's appointments only (the link
    used to open the whole list), with a way back to everyone's."""
    doctor = await demo.doctor("Filtre")
    parent = await demo.patient("Paul", "Filtre")
    first, second = (await demo.slots(doctor, days=14))[:2]
    await demo.book(parent, doctor, first)
    relative_id = await demo.relative(parent, "Emma", "Filtre")
    booked = await demo.http.post(
        "/api/v1/appointments",
        json={
            "doctor_id": doctor.id,
            "start": second["start"],
            "visit_type": second["visit_type"],
            "patient_id": relative_id,
        },
        headers=parent.account.headers,
    )
    assert booked.status_code == 201, booked.text

    page = await contexts.new_page(phone=True, inject_scripts=True)
    await sign_in(page, parent.account)
    await page.goto("/relatives")
    await (
        page.get_by_role("listitem", name="Emma Filtre")
        .get_by_role("link", name="Their appointments", exact=True)
        .click()
    )
    await expect(page.get_by_test_id("only-for")).to_contain_text("Emma Filtre")
    await expect(page.locator("li.appointment")).to_have_count(1)
    await expect(page.locator("li.appointment")).to_contain_text("For Emma Filtre")
    await page.get_by_role("link", name="Show everyone’s").click()
    await expect(page.locator("li.appointment")).to_have_count(2)

    # Emma has an upcoming appointment and nobody else manages her: removing her is refused,
    # and the card says what to do (in English and in French), accessible on a phone.
    await page.goto("/relatives")
    card = page.get_by_role("listitem", name="Emma Filtre")
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await card.get_by_role("button", name="Remove Emma Filtre").click()
    refusal = card.get_by_role("alert")
    await expect(refusal).to_contain_text("1 upcoming appointment would reach nobody")
    await expect(refusal).to_contain_text("Cancel it first")
    await expect(refusal.get_by_role("listitem")).to_have_count(1)
    await expect(refusal.get_by_role("listitem")).to_contain_text("with Dr ")
    await expect(refusal.get_by_role("link", name="Cancel their appointments")).to_be_visible()
    await in_french(page)
    await expect(refusal).to_contain_text("Annulez-le d’abord")
    await expect(refusal.get_by_role("link", name="Annuler ses rendez-vous")).to_be_visible()
    assert await axe_violations(page) == []
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways on a phone ({width}px wide)"
