"""The waitlist's lapse path in the browser: an offer nobody answers lapses and passes live to
the next waiting patient; when the last one lets it lapse too, the slot comes back to a third
person's live grid. And joining the waitlist from search when nothing is free soon.

The offers' hold is made short in the database (its end moved to now) and the hold sweeper's
pass is run at once, instead of waiting out the practice's 2..60 minutes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import asyncpg
import pytest
from playwright.async_api import Page, expect

from server.scheduling.holds import release_expired_holds
from storage.pool import open_pool
from tests.e2e.conftest import Contexts, LiveServer
from tests.e2e.demo import Demo, Patient
from tests.e2e.helpers import CHANGEABLE_AFTER, first_slot_after, show_week_of, sign_in, slot_button

NOTHING_SOON = "Nothing free soon: join the waitlist"  # on a search card
WAIT_ANY = "Wait for the first free slot with any of these doctors"  # under the results


@pytest.fixture
async def pool(live: LiveServer) -> AsyncIterator[asyncpg.Pool]:
    async with open_pool(live.database_url, max_size=2) as opened:
        yield opened


async def _join(page: Page, patient: Patient, doctor_id: str) -> None:
    await sign_in(page, patient.account)
    await page.goto(f"/waitlist?doctor={doctor_id}")
    await page.get_by_role("button", name="Join the waitlist").click()
    await expect(page.get_by_text("You are on the waitlist.")).to_be_visible()


async def _lapse(pool: asyncpg.Pool, offer_owner: Page, doctor_id: str) -> None:
    """End the open offer's hold now and sweep: the offer lapses as if its time ran out."""
    await expect(offer_owner.get_by_test_id("offer")).to_be_visible()
    await pool.execute(
        """UPDATE scheduling.appointments a SET hold_expires_at = now() - interval '1 second'
           FROM waitlist.offers o
           WHERE o.appointment_id = a.id AND o.status = 'open' AND o.doctor_id = $1""",
        uuid.UUID(doctor_id),
    )
    # The server's own sweeper may get there first (every 5 s): either pass releases it once.
    await release_expired_holds(pool)


async def test_an_unanswered_offer_passes_to_the_next_then_back_to_the_grid(
    contexts: Contexts, demo: Demo, pool: asyncpg.Pool
) -> None:
    doctor = await demo.doctor("Lapse")
    first, second, canceller, watcher = [
        await demo.patient(name) for name in ("Ada", "Bea", "Cyd", "Dan")
    ]
    slot = first_slot_after(await demo.slots(doctor, days=14), CHANGEABLE_AFTER)
    taken = await demo.book(canceller, doctor, slot)
    page_a, page_b, page_w = [await contexts.new_page() for _ in range(3)]
    await _join(page_a, first, doctor.id)
    await _join(page_b, second, doctor.id)
    await sign_in(page_w, watcher.account)
    await page_w.goto(f"/doctors/{doctor.id}")
    await show_week_of(page_w, slot["start"])
    await expect(page_w.get_by_text("Live: slots update")).to_be_visible()

    await demo.cancel(canceller, taken["id"])
    await expect(page_a.get_by_test_id("offer")).to_contain_text("A slot is held for you")
    await expect(page_b.get_by_test_id("offer")).to_have_count(0)
    await expect(slot_button(page_w, slot["start"])).to_have_count(0)

    await _lapse(pool, page_a, doctor.id)
    # B never reloads: the passed-on offer arrives over /notifications.
    await expect(page_b.get_by_test_id("offer")).to_contain_text("A slot is held for you")
    await expect(slot_button(page_w, slot["start"])).to_have_count(0)

    await _lapse(pool, page_b, doctor.id)
    # Nobody left: the slot is released and the third person's grid shows it again, live.
    await expect(slot_button(page_w, slot["start"])).to_have_count(1)
    offers = await pool.fetch(
        """SELECT o.status FROM waitlist.offers o JOIN scheduling.appointments a
           ON a.id = o.appointment_id WHERE a.doctor_id = $1""",
        uuid.UUID(doctor.id),
    )
    assert sorted(o["status"] for o in offers) == ["lapsed", "lapsed"]


async def test_search_offers_the_waitlist_when_nothing_is_free_soon(
    contexts: Contexts, demo: Demo
) -> None:
    city = f"Attente{uuid.uuid4().hex[:6]}"
    today = datetime.now(UTC).date()
    off = {
        "kind": "time-off",
        "start_date": (today - timedelta(days=1)).isoformat(),
        "end_date": (today + timedelta(days=10)).isoformat(),
        "note": "Congrès",
    }
    doctor = await demo.doctor("Busy", specialty="dermatology", city=city, exceptions=[off])
    patient = await demo.patient("Eve")
    page = await contexts.new_page()
    await sign_in(page, patient.account)
    await page.goto(f"/?specialty=dermatology&city={city}")
    card = page.locator(".doctor-card", has_text=doctor.last_name)
    await expect(card.get_by_role("link", name=NOTHING_SOON)).to_be_visible()
    await page.get_by_role("link", name=WAIT_ANY).click()
    await page.get_by_role("button", name="Join the waitlist").click()
    await expect(page.get_by_text("You are on the waitlist.")).to_be_visible()
    await expect(page.get_by_text("Any dermatology doctor")).to_be_visible()

    # Back from search again: already there, so no second form.
    await page.goto(f"/?specialty=dermatology&city={city}")
    await card.get_by_role("link", name=NOTHING_SOON).click()
    await expect(page.get_by_role("button", name="Join the waitlist")).to_be_visible()
    await page.get_by_role("button", name="Join the waitlist").click()
    await expect(page.get_by_text("You are on the waitlist.")).to_be_visible()
    await page.goto(f"/?specialty=dermatology&city={city}")
    await page.get_by_role("link", name=WAIT_ANY).click()
    await expect(page.get_by_text("You are already on this waitlist.")).to_be_visible()
    await expect(page.get_by_role("button", name="Join the waitlist")).to_have_count(0)


async def test_the_policy_shows_before_booking_and_the_cancel_dialog_asks_why_when_late(
    contexts: Contexts, demo: Demo
) -> None:
    doctor = await demo.doctor("Policy")
    reason = {
        "name": "Bilan",
        "duration_minutes": 30,
        "visit_types": ["in-person"],
        "refund_cutoff_hours": 72,
        "late_refund_percent": 25,
        "cancel_reason_required": "late",
    }
    saved = await demo.http.get(f"/api/v1/doctors/{doctor.id}/availability")
    body = {k: saved.json()[k] for k in ("rules", "exceptions", "settings")}
    put = await demo.http.put(
        f"/api/v1/doctors/{doctor.id}/availability",
        json={**body, "reasons": [reason]},
        headers=doctor.account.headers,
    )
    assert put.status_code == 200, put.text
    reason_id = put.json()["reasons"][0]["id"]
    patient = await demo.patient("Flo")
    # Inside the 72 h cut-off, outside the 24 h online one: a late cancellation.
    slot = first_slot_after(
        await demo.slots(doctor, days=14), CHANGEABLE_AFTER + timedelta(hours=1)
    )
    assert datetime.fromisoformat(slot["start"]) < datetime.now(UTC) + timedelta(hours=72)

    page = await contexts.new_page()
    await sign_in(page, patient.account)
    query = urlencode(
        {
            "doctor": doctor.id,
            "start": slot["start"],
            "end": slot["end"],
            "visit": "in-person",
            "reason": reason_id,
        }
    )
    await page.goto(f"/book?{query}")
    policy = page.get_by_test_id("cancellation-policy")
    await expect(policy).to_contain_text("Cancel free of charge until 72 hours before the visit.")
    await expect(policy).to_contain_text("A late cancellation asks you why.")
    await page.get_by_role("button", name="Confirm the appointment").click()
    await expect(page.get_by_text("Your appointment is booked")).to_be_visible()

    await page.goto("/appointments")
    await page.get_by_role("button", name="Cancel").first.click()
    dialog = page.get_by_role("form", name="Cancel this appointment?")
    await expect(dialog.get_by_test_id("cancel-policy")).to_have_attribute("data-late", "true")
    why = dialog.get_by_label("Reason (required by this practice, shared with the doctor)")
    await expect(why).to_have_attribute("required", "")
    # Spaces are no reason: refused on the field (translated), nothing sent.
    await why.fill("   ")
    await dialog.get_by_role("button", name="Yes, cancel it").click()
    await expect(dialog.get_by_text("Please say why you cancel: this visit’s")).to_be_visible()
    await expect(why).to_have_attribute("aria-invalid", "true")
    await expect(why).to_be_focused()
    await why.fill("Fièvre")
    await expect(why).to_have_attribute("aria-invalid", "false")
    await dialog.get_by_role("button", name="Yes, cancel it").click()
    await expect(page.get_by_text("The appointment is cancelled.")).to_be_visible()
