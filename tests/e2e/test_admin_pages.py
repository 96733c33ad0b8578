"""Issue #23: the admin pages work for an admin (desktop and phone), refuse everyone else, and
have no serious axe violations."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from playwright.async_api import Page, expect

from server.auth.passwords import hash_password
from tests.e2e.conftest import Contexts, LiveServer
from tests.e2e.demo import PASSWORD, Account, Demo, _check
from tests.e2e.helpers import axe_violations, in_french, sign_in

REFUSED = "This page is not available with your account."


async def _admin(live: LiveServer) -> Account:
    """An admin with a real password (admins are made by the CLI, never by sign-up)."""
    email = f"admin-{uuid.uuid4().hex[:8]}@example.test"
    con = await asyncpg.connect(live.database_url)
    try:
        user_id = await con.fetchval(
            """INSERT INTO auth.users (email, password_hash, role, is_verified)
               VALUES ($1, $2, 'admin', true) RETURNING id""",
            email,
            await hash_password(PASSWORD),
        )
    finally:
        await con.close()
    return Account(email, PASSWORD, str(user_id), "")


async def _unverified_doctor(demo: Demo, last: str) -> str:
    """A doctor's profile waiting for verification; returns its licence number."""
    account, _ = await demo.account("doctor", "Awaiting", last)
    licence = f"LIC-{uuid.uuid4().hex[:10]}"
    profile = {
        "first_name": "Awaiting",
        "last_name": last,
        "specializations": ["cardiology"],
        "license_number": licence,
        "consultation_fee": 3000,
        "city": "Lyon",
        "postcode": "69001",
        "latitude": 45.76,
        "longitude": 4.83,
        "time_zone": "Europe/Paris",
    }
    _check(await demo.http.post("/api/v1/doctors", json=profile, headers=account.headers))
    return licence


async def _no_serious_violations(page: Page) -> None:
    assert await axe_violations(page) == []


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
async def test_an_admin_runs_every_admin_page(
    contexts: Contexts, demo: Demo, live: LiveServer, phone: bool
) -> None:
    admin = await _admin(live)
    last = f"Queue{uuid.uuid4().hex[:4]}"
    licence = await _unverified_doctor(demo, last)
    patient = await demo.patient("Zoé", "Admin")
    page = await contexts.new_page(phone=phone, inject_scripts=True)
    await sign_in(page, admin)

    await page.goto("/admin/users")
    await page.get_by_label("Search by email or name").fill(patient.account.email)
    row = page.locator(".admin-row", has_text="Zoé Admin")
    await expect(row).to_have_count(1)
    await _no_serious_violations(page)
    await row.get_by_role("button", name="Suspend").click()
    await row.get_by_role("button", name="Suspend now").click()
    await expect(page.get_by_text("is suspended: signed out everywhere")).to_be_visible()
    await expect(row.get_by_role("button", name="Reactivate")).to_be_visible()

    await page.get_by_role("link", name="Doctor verification").click()
    pending = page.locator(".admin-row", has_text=last)
    await expect(pending).to_contain_text(licence)
    await _no_serious_violations(page)
    await pending.get_by_role("button", name="Verify").click()
    await expect(page.get_by_text(f"Dr Awaiting {last} is verified")).to_be_visible()

    await page.get_by_role("link", name="Audit trail").click()
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Confirm").click()
    await expect(page.locator(".admin-table tbody tr").first).to_be_visible()
    await page.get_by_role("button", name="Verify the chain").click()
    await expect(page.get_by_text("OK:")).to_be_visible()
    await _no_serious_violations(page)

    await page.get_by_role("link", name="System health").click()
    await expect(page.get_by_text("postgresql", exact=True)).to_be_visible()
    await expect(page.get_by_text("/notifications", exact=True)).to_be_visible()
    await _no_serious_violations(page)


async def test_admin_pages_are_refused_to_a_patient(contexts: Contexts, demo: Demo) -> None:
    patient = await demo.patient("Léon", "Curieux")
    page = await contexts.new_page()
    await sign_in(page, patient.account)
    for path in ("/admin/users", "/admin/verification", "/admin/audit", "/admin/health"):
        await page.goto(path)
        await expect(
            page.get_by_text("This page is not available with your account.")
        ).to_be_visible()


async def test_a_refused_step_up_reads_in_french(contexts: Contexts, live: LiveServer) -> None:
    """The admin pages show refusals by their code in the reader's language, not the server's
    English (`wrong-password`)."""
    admin = await _admin(live)
    page = await contexts.new_page()
    await sign_in(page, admin)
    await in_french(page)

    await page.goto("/admin/audit")
    sent: list[str] = []
    page.on(
        "request",
        lambda r: sent.append(r.url) if "/auth/" in r.url or "/step-up" in r.url else None,
    )
    await page.get_by_label("Mot de passe").fill("not-the-password")
    await page.get_by_role("button", name="Confirmer").click()

    refused = page.get_by_role("alert").filter(has_text="Le mot de passe est incorrect.")
    await expect(refused).to_be_visible()
    await expect(page.get_by_text("The password is not correct.")).to_have_count(0)
    # A wrong password is not about the access token: no refresh, and not sent a second time.
    assert [url.split("/api/v1")[-1] for url in sent] == ["/admin/step-up"]


async def test_an_admin_reads_an_appointment_after_entering_the_password_again(
    contexts: Contexts, demo: Demo, live: LiveServer
) -> None:
    """Appointments are health data: a fresh admin session (no step-up yet) is asked for the
    password on the appointment's page, then sees it."""
    doctor = await demo.doctor("Claire")
    patient = await demo.patient("Inès", "Etape")
    booked = await demo.book(patient, doctor, (await demo.slots(doctor))[0])
    admin = await _admin(live)
    page = await contexts.new_page(phone=True, inject_scripts=True)
    await sign_in(page, admin)

    await page.goto(f"/agenda/appointments/{booked['id']}")
    prompt = page.get_by_role("form", name="Confirm it is you")
    await expect(prompt).to_be_visible()
    await _no_serious_violations(page)
    await prompt.get_by_label("Password").fill(PASSWORD)
    await prompt.get_by_role("button", name="Confirm").click()
    await expect(page.locator("#appointment-title")).to_contain_text("Appointment")
    await expect(prompt).to_have_count(0)
