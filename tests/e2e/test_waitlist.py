"""The waitlist in the browser: patient A waits, patient B cancels, A gets the live offer with
its countdown and books it, while a third person's live grid never shows the slot free."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
from playwright.async_api import expect

from tests.e2e.conftest import BROWSER_ZONE, Contexts, LiveServer
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

# Marks the page once the slot's button ever appears in its grid (checked on every DOM change).
WATCH = """start => {
    window.sawSlot = false;
    const look = () => { if (document.querySelector(`button.slot[data-start="${start}"]`))
                           window.sawSlot = true; };
    new MutationObserver(look).observe(document.body, {childList: true, subtree: true});
    look();
}"""


async def test_a_cancelled_slot_is_offered_live_and_never_shown_to_others(
    contexts: Contexts, demo: Demo
) -> None:
    doctor = await demo.doctor("Waitlist")
    waiter, canceller, watcher = (
        await demo.patient("Ada"),
        await demo.patient("Ben"),
        await demo.patient("Cleo"),
    )
    slot = first_slot_after(await demo.slots(doctor, days=14), CHANGEABLE_AFTER)
    taken = await demo.book(canceller, doctor, slot)

    page_a = await contexts.new_page()
    await sign_in(page_a, waiter.account)
    await page_a.goto(f"/doctors/{doctor.id}")
    await page_a.get_by_role("link", name="Join the waitlist").click()
    await page_a.get_by_role("button", name="Join the waitlist").click()
    await expect(page_a.get_by_text("You are on the waitlist.")).to_be_visible()

    page_c = await contexts.new_page()
    await sign_in(page_c, watcher.account)
    await page_c.goto(f"/doctors/{doctor.id}")
    await show_week_of(page_c, slot["start"])
    await expect(page_c.get_by_text("Live: slots update")).to_be_visible()
    utc = datetime.fromisoformat(slot["start"]).astimezone(UTC)
    await page_c.evaluate(WATCH, utc.strftime("%Y-%m-%dT%H:%M:%S.000Z"))

    await demo.cancel(canceller, taken["id"])

    # A never reloads: the offer arrives over /notifications, held with a countdown.
    offer = page_a.get_by_test_id("offer")
    # The offer names the doctor (an area entry's offer may come from any of them).
    await expect(offer).to_contain_text(
        f"A slot is held for you with Dr {doctor.first_name} {doctor.last_name}"
    )
    await expect(offer.get_by_role("timer")).to_contain_text("Held for")
    await offer.get_by_role("button", name="Book this slot").click()
    await expect(page_a.get_by_text("Booked. See it in your appointments.")).to_be_visible()

    # The booking reached C's grid live (a held slot was never free there either).
    await expect(slot_button(page_c, slot["start"])).to_have_count(0)
    assert await page_c.evaluate("window.sawSlot") is False


async def test_running_late_reaches_the_appointment_page_live(
    contexts: Contexts, demo: Demo, live: LiveServer
) -> None:
    doctor = await demo.doctor("Late", time_zone=BROWSER_ZONE)
    patient = await demo.patient("Dora")
    slot = first_slot_after(await demo.slots(doctor, days=14), CHANGEABLE_AFTER)
    booked = await demo.book(patient, doctor, slot)
    # Later today (browser and doctor share the zone), whatever the hour: before midnight.
    now = datetime.now(UTC)
    zone = ZoneInfo(BROWSER_ZONE)
    midnight = datetime.combine(
        now.astimezone(zone).date() + timedelta(days=1), datetime.min.time(), zone
    )
    con = await asyncpg.connect(live.database_url)
    try:
        await con.execute(
            """UPDATE scheduling.appointments
               SET period = tstzrange($2::timestamptz,
                                      $2::timestamptz + (upper(period) - lower(period)), '[)')
               WHERE id = $1""",
            uuid.UUID(booked["id"]),
            now + (midnight - now) / 2,
        )
    finally:
        await con.close()

    page = await contexts.new_page()
    await sign_in(page, patient.account)
    await page.goto("/appointments")
    banner = page.get_by_test_id("queue-banner")
    await expect(banner).to_contain_text("You are number 1 in the doctor’s queue today.")
    await expect(banner).not_to_contain_text("late")

    said = await demo.http.put(
        f"/api/v1/waitlist/doctors/{doctor.id}/running-late",
        json={"minutes": 20},
        headers=doctor.account.headers,
    )
    assert said.status_code == 200, said.text
    # No reload: queue.updated arrives on /notifications and the banner re-reads.
    await expect(banner).to_contain_text("running about 20 min late")


async def test_an_area_waitlist_in_french_names_the_specialty_and_says_joined_once(
    contexts: Contexts, demo: Demo
) -> None:
    """From search (specialty + city) in French: the specialty by its French name, never its
    code; after joining, one confirmation (not also "already on this waitlist"); a doctor's
    entry names the doctor."""
    doctor = await demo.doctor("Zoé", specialty="cardiology", city="Paris")
    patient = await demo.patient("Lou", "Zone")
    page = await contexts.new_page(phone=True)
    await sign_in(page, patient.account)
    await in_french(page)
    await page.goto("/waitlist?specialty=cardiology&city=Paris")
    await expect(
        page.get_by_role("heading", name="Attendre n’importe quel médecin (Cardiologie) à Paris")
    ).to_be_visible()
    await page.get_by_role("button", name="Rejoindre la liste d’attente").click()
    await expect(page.get_by_text("Vous êtes sur la liste d’attente.")).to_be_visible()
    await expect(page.get_by_text("Vous êtes déjà sur cette liste d’attente.")).to_have_count(0)
    await expect(page.get_by_text("N’importe quel médecin (Cardiologie) · Paris.")).to_be_visible()
    await expect(page.get_by_text("cardiology")).to_have_count(0)

    # The same specialty in another city is another waitlist: its form is offered.
    await page.goto("/waitlist?specialty=cardiology&city=Lyon")
    await expect(
        page.get_by_role("heading", name="Attendre n’importe quel médecin (Cardiologie) à Lyon")
    ).to_be_visible()

    await page.goto(f"/waitlist?doctor={doctor.id}")
    await page.get_by_role("button", name="Rejoindre la liste d’attente").click()
    await expect(page.get_by_text(f"Dr {doctor.first_name} {doctor.last_name}.")).to_be_visible()


async def test_the_latest_day_defaults_to_two_weeks_from_the_viewers_own_day(
    contexts: Contexts, demo: Demo
) -> None:
    """Found by testers: the default came from the UTC day. A viewer whose day is not UTC's
    right now (east of it after 10:00 UTC, west of it before 11:00) sees their own day + 14."""
    doctor = await demo.doctor("Jour")
    patient = await demo.patient("Noa")
    zone = "Pacific/Kiritimati" if datetime.now(UTC).hour >= 10 else "Pacific/Pago_Pago"

    def expected() -> str:
        return (datetime.now(ZoneInfo(zone)).date() + timedelta(days=14)).isoformat()

    before = expected()
    page = await contexts.new_page(zone=zone)
    await sign_in(page, patient.account)
    await page.goto(f"/waitlist?doctor={doctor.id}")
    shown = await page.get_by_label("Latest day").input_value()
    assert shown in {before, expected()}, (shown, before, zone)


async def test_the_doctor_reads_each_patients_figures_in_the_right_number(
    contexts: Contexts, demo: Demo, live: LiveServer
) -> None:
    """Per patient: "1 no-show", "0 late cancellations" (never "1 no-shows"), in French too."""
    doctor = await demo.doctor("Fiable")
    patient = await demo.patient("Rémi", "Absent")
    booked = await demo.book(patient, doctor, (await demo.slots(doctor))[0])
    con = await asyncpg.connect(live.database_url)
    try:
        await con.execute(
            "UPDATE scheduling.appointments SET status = 'no-show' WHERE id = $1",
            uuid.UUID(booked["id"]),
        )
    finally:
        await con.close()
    page = await contexts.new_page(phone=True)
    await sign_in(page, doctor.account)
    await page.goto("/agenda")
    await page.get_by_text("Per patient").click()
    figures = page.get_by_test_id("reliability-patients")
    await expect(figures).to_contain_text("Rémi Absent: 0 late cancellations, 1 no-show")
    await in_french(page)
    await expect(figures).to_contain_text("Rémi Absent : 0 annulation tardive, 1 absence")


async def test_a_parent_puts_a_child_on_the_waitlist_and_books_her_offer(
    contexts: Contexts, demo: Demo
) -> None:
    """The "For whom" choice (issues #22, #24) on a phone, in French: the parent joins for Léa,
    sees the entry under her name (and may still join herself), then the live offer for Léa,
    and books it for her."""
    doctor = await demo.doctor("Famille")
    parent, canceller = await demo.patient("Claire", "Martin"), await demo.patient("Ben")
    slot = first_slot_after(await demo.slots(doctor, days=14), CHANGEABLE_AFTER)
    taken = await demo.book(canceller, doctor, slot)
    relative_id = await demo.relative(parent, "Léa", "Martin")

    page = await contexts.new_page(phone=True, inject_scripts=True)
    await sign_in(page, parent.account)
    await page.goto(f"/waitlist?doctor={doctor.id}")
    await in_french(page)
    await page.get_by_label("Pour qui").select_option(label="Léa Martin")
    assert await axe_violations(page) == []
    await page.get_by_role("button", name="Rejoindre la liste d’attente").click()
    await expect(page.get_by_text("Léa Martin est sur la liste d’attente.")).to_be_visible()
    await expect(page.get_by_text("Pour Léa Martin", exact=True)).to_be_visible()
    await expect(page.get_by_label("Pour qui")).to_have_value("")  # Claire herself is left

    await demo.cancel(canceller, taken["id"])
    offer = page.get_by_test_id("offer")
    await expect(offer).to_contain_text(
        f"Un créneau est réservé pour Léa Martin avec Dr {doctor.first_name} {doctor.last_name}"
    )
    assert await axe_violations(page) == []
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways on a phone ({width}px wide)"
    await offer.get_by_role("button", name="Réserver ce créneau").click()
    await expect(page.get_by_text("Réservé. Retrouvez-le dans vos rendez-vous.")).to_be_visible()

    listed = await demo.http.get(
        f"/api/v1/appointments/patient/{relative_id}", headers=parent.account.headers
    )
    [booked] = listed.json()["items"]
    assert booked["booked_by"]["id"] == parent.account.user_id
    assert contexts.page_errors == []
