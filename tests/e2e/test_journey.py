"""The core patient journey in a real browser: sign in, search with suggestions, doctor page."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.e2e.demo import Demo
from tests.e2e.helpers import sign_in


async def test_patient_signs_in_searches_and_opens_a_doctor(page: Page, demo: Demo) -> None:
    doctor = await demo.doctor("Claire")
    patient = await demo.patient()

    await sign_in(page, patient.account)
    await expect(page).to_have_url(re.compile(r"/$"))
    await page.reload()  # the refresh token keeps the session across reloads
    await expect(page.get_by_text(patient.account.email)).to_be_visible()

    search = page.get_by_role("combobox", name="Doctor, specialty or city")
    await search.fill(doctor.last_name[:-2])
    suggestion = page.get_by_role("option", name=re.compile(doctor.last_name))
    await expect(suggestion).to_be_visible()
    await search.fill(doctor.last_name)
    await search.press("Enter")

    result = page.get_by_role("link", name=doctor.name)
    await expect(result).to_be_visible()
    card = page.locator(".doctor-card", has=result)
    await expect(card).to_contain_text("€30.00")
    await expect(card).to_contain_text("Next available")
    await result.click()

    await expect(page.get_by_role("heading", level=1, name=doctor.name)).to_be_visible()
    await expect(page.get_by_role("heading", name="Book an appointment")).to_be_visible()
    await expect(page.locator("button.slot").first).to_be_visible()
    await expect(page.get_by_text("Live: slots update")).to_be_visible()


async def test_signed_out_visitor_is_sent_to_sign_in_and_back(page: Page, demo: Demo) -> None:
    patient = await demo.patient()
    await page.goto("/appointments")
    await expect(page).to_have_url(re.compile(r"/sign-in\?next=%2Fappointments"))
    await page.get_by_label("Email").fill(patient.account.email)
    await page.get_by_label("Password").fill(patient.account.password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile(r"/appointments$"))


async def test_wrong_password_is_refused_in_plain_words(page: Page, demo: Demo) -> None:
    patient = await demo.patient()
    await page.goto("/sign-in")
    await page.get_by_label("Email").fill(patient.account.email)
    await page.get_by_label("Password").fill("not the password at all")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("The email or password is not right.")


async def test_sessions_refresh_silently_and_send_to_sign_in_once_revoked(
    page: Page, demo: Demo
) -> None:
    patient = await demo.patient()
    await sign_in(page, patient.account)
    stored = "JSON.parse(localStorage.getItem('markini.session'))"
    first = await page.evaluate(stored)

    # An access token past its expiry: the next request refreshes it, the user sees nothing.
    await page.evaluate(
        f"localStorage.setItem('markini.session', JSON.stringify({{...{stored}, expiresAt: 0}}))"
    )
    await page.goto("/profile")
    await expect(page.get_by_label("First name")).to_have_value(patient.first_name)
    assert (await page.evaluate(stored))["refresh"] != first["refresh"]  # rotated

    # The session ends on the server (signed out elsewhere): back to sign-in, then back here.
    current = await page.evaluate(stored)
    headers = {"Authorization": f"Bearer {current['access']}"}
    assert (await demo.http.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    await page.goto("/appointments")
    await expect(page).to_have_url(re.compile(r"/sign-in\?next=%2Fappointments"))
    await expect(page.get_by_text("Your session has ended")).to_be_visible()
    await page.get_by_label("Email").fill(patient.account.email)
    await page.get_by_label("Password").fill(patient.account.password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile(r"/appointments$"))
