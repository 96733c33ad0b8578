"""Issue #23: a patient downloads their data from the profile page."""

from __future__ import annotations

import json
import zipfile

from tests.e2e.conftest import Contexts
from tests.e2e.demo import Demo
from tests.e2e.helpers import sign_in


async def test_a_patient_downloads_their_data(contexts: Contexts, demo: Demo) -> None:
    patient = await demo.patient("Elsa", "Export")
    page = await contexts.new_page()
    await sign_in(page, patient.account)
    await page.goto("/profile")
    async with page.expect_download() as waiting:
        await page.get_by_role("button", name="Download my data").click()
    download = await waiting.value
    path = await download.path()
    with zipfile.ZipFile(path) as archive:
        data = json.loads(archive.read("export.json"))
    assert data["profile"]["first_name"] == "Elsa"
    assert data["account"]["email"] == patient.account.email
