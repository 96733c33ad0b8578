"""The waitlist in the browser: patient A waits, patient B cancels, A gets the live offer with
its countdown and books it, while a third person's live grid never shows the slot free."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.async_api import expect

from tests.e2e.conftest import Contexts
from tests.e2e.demo import Demo
from tests.e2e.helpers import CHANGEABLE_AFTER, first_slot_after, show_week_of, sign_in, slot_button

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
    await expect(offer).to_contain_text("A slot is held for you")
    await expect(offer.get_by_role("timer")).to_contain_text("Held for")
    await offer.get_by_role("button", name="Book this slot").click()
    await expect(page_a.get_by_text("Booked. See it in your appointments.")).to_be_visible()

    # The booking reached C's grid live (a held slot was never free there either).
    await expect(slot_button(page_c, slot["start"])).to_have_count(0)
    assert await page_c.evaluate("window.sawSlot") is False
