"""The bell in the browser: a doctor's cancellation rings the patient's bell live, and the
notification is still there, read or not, after a reload; the settings and dev mailbox pages."""

from __future__ import annotations

import asyncio
import re
import time

import asyncpg
import pyotp
from playwright.async_api import expect

from tests.e2e.conftest import Contexts, LiveServer
from tests.e2e.demo import Demo
from tests.e2e.helpers import CHANGEABLE_AFTER, axe_violations, first_slot_after, in_french, sign_in


async def _mailbox_body(con: asyncpg.Connection, recipient: str, kind: str) -> str:
    """The body of the first such message in the dev mailbox, once the worker delivered it."""
    for _ in range(400):
        body: str | None = await con.fetchval(
            "SELECT body FROM notify.dev_mailbox WHERE recipient = $1 AND kind = $2",
            recipient,
            kind,
        )
        if body:
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {kind} for {recipient} in the dev mailbox")


async def test_the_bell_shows_a_live_notification_and_keeps_it_after_a_reload(
    contexts: Contexts, demo: Demo
) -> None:
    doctor = await demo.doctor("Bell")
    patient = await demo.patient("Bella")
    page = await contexts.new_page(phone=True, inject_scripts=True)
    await sign_in(page, patient.account)
    bell = page.get_by_role("button", name="Notifications, 0 unread")
    await expect(bell).to_be_visible()

    slot = first_slot_after(await demo.slots(doctor, days=14), CHANGEABLE_AFTER)
    await demo.book(patient, doctor, slot)  # the patient's own booking: "Appointment booked"

    await expect(page.get_by_role("button", name="Notifications, 1 unread")).to_be_visible()
    await page.get_by_role("button", name="Notifications, 1 unread").click()
    panel = page.get_by_role("region", name="Notifications")
    await expect(panel.get_by_text("Appointment booked")).to_be_visible()
    await expect(panel.get_by_text(doctor.name)).to_be_visible()
    assert await axe_violations(page) == []

    await page.reload()
    await page.get_by_role("button", name="Notifications, 1 unread").click()
    await page.get_by_role("button", name="Mark all as read").click()
    await expect(page.get_by_role("button", name="Notifications, 0 unread")).to_be_visible()
    await page.reload()
    await expect(page.get_by_role("button", name="Notifications, 0 unread")).to_be_visible()


async def test_settings_page_stores_the_mobile_in_e164_in_french(
    contexts: Contexts, demo: Demo
) -> None:
    patient = await demo.patient("Réglages")
    page = await contexts.new_page(inject_scripts=True)
    await sign_in(page, patient.account)
    await in_french(page)
    await page.goto("/settings/notifications")
    await page.get_by_label("Langue des messages").select_option("fr")
    await page.get_by_label("Mobile pour les SMS").fill("06 12 34 56 78")
    await page.get_by_role("button", name="Enregistrer mes réglages").click()
    await expect(page.get_by_text("Vos réglages sont enregistrés.")).to_be_visible()
    await expect(page.get_by_label("Mobile pour les SMS")).to_have_value("+33612345678")
    assert await axe_violations(page) == []


async def test_the_dev_mailbox_page_shows_what_was_sent(
    contexts: Contexts, demo: Demo, live: LiveServer
) -> None:
    doctor = await demo.doctor("Mailbox")
    patient = await demo.patient("Mireille")
    slot = first_slot_after(await demo.slots(doctor, days=14), CHANGEABLE_AFTER)
    await demo.book(patient, doctor, slot)
    admin, _ = await demo.account("patient", "Ada", "Admin")
    con = await asyncpg.connect(live.database_url)
    try:  # an admin who can sign in with a password (admins are made by the CLI, not sign-up)
        await con.execute("UPDATE auth.users SET role = 'admin' WHERE email = $1", admin.email)
        await _mailbox_body(con, patient.account.email, "appointment.confirmation")
    finally:
        await con.close()
    page = await contexts.new_page(phone=True)
    await sign_in(page, admin)
    await page.goto("/admin/dev-mailbox")
    item = page.locator(".mailbox-item").filter(has_text=patient.account.email)
    await expect(item.filter(has_text="is booked")).to_be_visible(timeout=20_000)


async def test_a_code_by_email_replaces_the_authenticator_at_sign_in(
    contexts: Contexts, demo: Demo, live: LiveServer
) -> None:
    account, _ = await demo.account("patient", "Otto", "Code")
    enrolment = await demo.http.post("/api/v1/auth/mfa/enroll", headers=account.headers)
    secret = enrolment.json()["secret"]
    confirmed = await demo.http.post(
        "/api/v1/auth/mfa/confirm",
        json={"code": pyotp.TOTP(secret).at(time.time() - 30)},
        headers=account.headers,
    )
    assert confirmed.status_code == 200, confirmed.text

    page = await contexts.new_page(phone=True)
    await page.goto("/sign-in")
    await page.get_by_label("Email").fill(account.email)
    await page.get_by_label("Password").fill(account.password)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("button", name="Email me a code").click()
    await expect(page.get_by_text("A code is on its way to your email")).to_be_visible()
    con = await asyncpg.connect(live.database_url)
    try:  # no SMTP server here: the code lands in the dev mailbox
        body = await _mailbox_body(con, account.email, "mfa.code")
    finally:
        await con.close()
    found = re.search(r"code is (\d{6})", body)
    assert found is not None, body
    await page.get_by_label("Verification code").fill(found.group(1))
    await page.get_by_role("button", name="Verify").click()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()


async def test_a_wrong_mobile_is_refused_beside_its_field_in_french_on_a_phone(
    contexts: Contexts, demo: Demo
) -> None:
    patient = await demo.patient("Numéro")
    page = await contexts.new_page(phone=True, inject_scripts=True)
    await sign_in(page, patient.account)
    await in_french(page)
    await page.goto("/settings/notifications")
    mobile = page.get_by_label("Mobile pour les SMS")
    await mobile.fill("abc")
    await page.get_by_role("button", name="Enregistrer mes réglages").click()

    await expect(mobile).to_have_attribute("aria-invalid", "true")
    message = "Saisissez un numéro de mobile valide, par ex. +33 6 12 34 56 78."
    described_by = await mobile.get_attribute("aria-describedby") or ""
    error_id = next(i for i in described_by.split() if i.endswith("-error"))
    await expect(page.locator(f"#{error_id}")).to_have_text(message)
    assert await axe_violations(page) == []


async def test_switching_the_interface_to_french_makes_new_bell_texts_french(
    contexts: Contexts, demo: Demo
) -> None:
    doctor = await demo.doctor("Langue")
    patient = await demo.patient("Francine")
    page = await contexts.new_page(phone=True)
    await sign_in(page, patient.account)
    await expect(page.get_by_role("button", name="Notifications, 0 unread")).to_be_visible()

    await in_french(page)

    async def language() -> str:
        response = await demo.http.get(
            "/api/v1/notifications/preferences", headers=patient.account.headers
        )
        return str(response.json()["language"])

    for _ in range(200):
        if await language() == "fr":
            break
        await asyncio.sleep(0.05)
    assert await language() == "fr"
    slot = first_slot_after(await demo.slots(doctor, days=14), CHANGEABLE_AFTER)
    await demo.book(patient, doctor, slot)
    await page.get_by_role("button", name="Notifications, 1 non lue").click()
    panel = page.get_by_role("region", name="Notifications")
    await expect(panel.get_by_text("Rendez-vous réservé")).to_be_visible()
