"""Paying in the browser against localstripe (its Stripe.js stand-in and its signed webhooks):
book → pay with a test card → the appointment booked live in the doctor's agenda → invoice;
a declined card; 3-D Secure; an abandoned payment whose hold expires and whose slot comes back
live for a watcher."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from playwright.async_api import Page, expect

from server import clock
from server.payments.embedded import WEBHOOK_PATH, register_webhook
from tests.conftest import EngineUrls
from tests.e2e.conftest import Contexts, LiveServer, serve
from tests.e2e.demo import Demo, Doctor, Patient
from tests.e2e.helpers import (
    CHANGEABLE_AFTER,
    first_slot_after,
    in_french,
    show_week_of,
    sign_in,
    slot_button,
)

VISA = "4242424242424242"
DECLINED = "4000000000000341"
THREE_D_SECURE = "4000002760003184"
PAY = re.compile(r"^(Pay|Payer) ")


@pytest.fixture(scope="module")
async def live(
    web_dist: Path,
    engine_urls: EngineUrls,
    template_db: str,
    tmp_path_factory: pytest.TempPathFactory,
    localstripe_url: str,
) -> AsyncIterator[LiveServer]:
    """The app with payments on, its webhook registered with the session's localstripe."""
    secret = f"whsec_{secrets.token_hex(16)}"
    async with serve(
        engine_urls,
        template_db,
        tmp_path_factory.mktemp("e2e-pay"),
        payments_required=True,
        stripe_api_base=localstripe_url,
        stripe_webhook_secret=secret,
        hold_sweep_interval_s=0.2,
    ) as server:
        name = f"e2e-{secrets.token_hex(4)}"
        await register_webhook(localstripe_url, name, server.url + WEBHOOK_PATH, secret)
        yield server


async def choose_slot(page: Page, doctor: Doctor, start: str) -> None:
    await page.goto(f"/doctors/{doctor.id}")
    await show_week_of(page, start)
    await slot_button(page, start).click()
    await page.get_by_role("button", name="Confirm the appointment").click()
    await expect(
        page.get_by_role("heading", name="Pay to confirm your appointment")
    ).to_be_visible()
    await expect(page.get_by_role("timer")).to_contain_text("held for you")


async def enter_card(page: Page, number: str) -> None:
    card = page.locator(".card-element")
    await card.get_by_placeholder("number").fill(number)
    await card.get_by_placeholder("exp_month").fill("12")
    await card.get_by_placeholder("exp_year").fill("34")
    await card.get_by_placeholder("cvc").fill("123")
    await card.get_by_placeholder("postal_code").fill("75011")
    await page.get_by_role("button", name=PAY).click()


async def run_out_holds(live: LiveServer, doctor: Doctor) -> None:
    """The doctor's holds run out now (sooner than their real minutes)."""
    con = await asyncpg.connect(live.database_url)
    try:
        await con.execute(
            "UPDATE scheduling.appointments SET hold_expires_at = $1"
            " WHERE status = 'held' AND doctor_id = $2",
            clock.now(),
            uuid.UUID(doctor.id),
        )
    finally:
        await con.close()


async def signed_in_patient(contexts: Contexts, patient: Patient) -> Page:
    page = await contexts.new_page()
    await sign_in(page, patient.account)
    return page


async def test_book_pay_and_the_doctor_sees_it_booked_live_with_an_invoice(
    contexts: Contexts, demo: Demo
) -> None:
    doctor = await demo.doctor("Paid")
    patient = await demo.patient("Alice", "Payer")
    slot = first_slot_after(await demo.slots(doctor, days=14), CHANGEABLE_AFTER)
    agenda = await contexts.new_page()
    await sign_in(agenda, doctor.account)
    await agenda.get_by_role("tab", name="Week").click()
    await show_week_of(agenda, slot["start"], next_button="Next", previous_button="Previous")
    await expect(agenda.get_by_text("Live: new bookings")).to_be_visible()
    row = agenda.locator(".agenda-row", has_text="Alice Payer")

    page = await signed_in_patient(contexts, patient)
    await choose_slot(page, doctor, slot["start"])
    await enter_card(page, VISA)

    await expect(page.get_by_role("heading", name="Your appointment is booked")).to_be_visible()
    await expect(page.locator(".payment-status")).to_contain_text("Paid")
    await expect(row).to_contain_text("Confirmed")  # no reload: payment.completed → /agenda
    async with page.expect_download() as download:
        await page.get_by_role("button", name=re.compile("Download invoice")).click()
    saved = await (await download.value).path()
    assert Path(saved).read_bytes().startswith(b"%PDF")

    await page.goto("/appointments")
    await expect(page.locator(".appointment .payment-summary")).to_contain_text("Paid")
    await page.goto("/payments")
    await expect(page.locator(".payment-item")).to_contain_text("Paid")
    await row.get_by_role("link", name="Alice Payer").click()
    await expect(agenda.locator(".summary .payment-summary")).to_contain_text("Paid")
    await agenda.goto("/doctor/payments")
    await expect(agenda.locator(".payment-item")).to_contain_text("Paid")


async def test_a_declined_card_says_so_in_plain_words_on_a_phone_and_another_card_pays(
    contexts: Contexts, demo: Demo, screenshots: Path
) -> None:
    doctor = await demo.doctor("Declined")
    patient = await demo.patient("Bruno", "Declined")
    slot = first_slot_after(await demo.slots(doctor, days=14), CHANGEABLE_AFTER)
    page = await contexts.new_page(phone=True)
    await sign_in(page, patient.account)
    await choose_slot(page, doctor, slot["start"])

    await enter_card(page, DECLINED)

    await expect(page.get_by_role("alert")).to_contain_text("Your bank declined this card")
    await page.screenshot(path=str(screenshots / "checkout-phone.png"), full_page=True)
    await page.locator(".card-element").get_by_placeholder("number").fill(VISA)
    await page.get_by_role("button", name=PAY).click()
    await expect(page.get_by_role("heading", name="Your appointment is booked")).to_be_visible()


async def test_a_declined_card_and_a_hold_that_ran_out_read_in_french(
    contexts: Contexts, demo: Demo, live: LiveServer
) -> None:
    doctor = await demo.doctor("Francais")
    patient = await demo.patient("Gil", "Francais")
    slot = first_slot_after(await demo.slots(doctor, days=14), CHANGEABLE_AFTER)
    page = await signed_in_patient(contexts, patient)
    await choose_slot(page, doctor, slot["start"])
    await in_french(page)

    await enter_card(page, DECLINED)  # the 402's decline_code, in French

    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("Votre banque a refusé cette carte")
    await expect(alert).not_to_contain_text("declined")
    # The hold runs out on the server while the page still counts down: a 409 problem code.
    await run_out_holds(live, doctor)
    await page.locator(".card-element").get_by_placeholder("number").fill(VISA)
    await page.get_by_role("button", name=PAY).click()
    await expect(alert).to_contain_text("Cette réservation a pris fin")


async def test_a_card_asking_for_3d_secure_pays_once_authenticated(
    contexts: Contexts, demo: Demo, screenshots: Path
) -> None:
    doctor = await demo.doctor("Secure")
    patient = await demo.patient("Chloe", "Secure")
    slot = first_slot_after(await demo.slots(doctor, days=14), CHANGEABLE_AFTER)
    page = await signed_in_patient(contexts, patient)
    await choose_slot(page, doctor, slot["start"])
    await page.screenshot(path=str(screenshots / "checkout-desktop.png"), full_page=True)

    await enter_card(page, THREE_D_SECURE)
    await page.get_by_role("button", name="Complete authentication").click()

    await expect(page.get_by_role("heading", name="Your appointment is booked")).to_be_visible()


async def test_an_abandoned_payment_lets_the_hold_expire_and_the_slot_comes_back_live(
    contexts: Contexts, demo: Demo, live: LiveServer
) -> None:
    doctor = await demo.doctor("Abandoned")
    patient, watcher = await demo.patient("Dan", "Leaves"), await demo.patient("Eve", "Watches")
    slot = first_slot_after(await demo.slots(doctor, days=14), CHANGEABLE_AFTER)
    watching = await signed_in_patient(contexts, watcher)
    await watching.goto(f"/doctors/{doctor.id}")
    await show_week_of(watching, slot["start"])
    await expect(watching.get_by_text("Live: slots update")).to_be_visible()

    page = await signed_in_patient(contexts, patient)
    await choose_slot(page, doctor, slot["start"])
    await expect(slot_button(watching, slot["start"])).to_have_count(0)  # held
    await page.close()  # the patient walks away without paying
    # The hold's time runs out (sooner than its real minutes): the sweeper releases it.
    await run_out_holds(live, doctor)

    await expect(slot_button(watching, slot["start"])).to_have_count(1)
