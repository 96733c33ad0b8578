"""Issue #23: a patient makes a private calendar link in the browser and it serves iCalendar."""

from __future__ import annotations

import re

import httpx
import pytest
from icalendar import Calendar
from playwright.async_api import expect

from tests.e2e.conftest import Contexts, LiveServer
from tests.e2e.demo import Demo
from tests.e2e.helpers import axe_violations, sign_in


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
async def test_a_patient_makes_and_stops_a_calendar_link(
    contexts: Contexts, demo: Demo, live: LiveServer, phone: bool
) -> None:
    patient = await demo.patient("Iris", "Cal")
    page = await contexts.new_page(phone=phone, inject_scripts=True)
    await sign_in(page, patient.account)
    await page.goto("/calendar-link")
    await page.get_by_role("button", name="Make a link").click()
    link = page.get_by_role("textbox", name="Your private link")
    await expect(link).to_have_value(re.compile(r"/calendar/[A-Za-z0-9_-]+\.ics$"))
    url = await link.input_value()
    assert url.startswith(f"{live.url}/calendar/") and url.endswith(".ics")
    assert await axe_violations(page) == []
    async with httpx.AsyncClient() as http:
        served = await http.get(url)
    assert served.status_code == 200
    assert Calendar.from_ical(served.content).get("x-wr-calname") == "Markini appointments"

    await page.get_by_role("button", name="Stop the link").click()
    await expect(page.get_by_text("The link no longer works.")).to_be_visible()
    async with httpx.AsyncClient() as http:
        assert (await http.get(url)).status_code == 404
