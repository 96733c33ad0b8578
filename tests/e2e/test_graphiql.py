"""Issue #23: GraphiQL is served from the app's own assets and runs queries as the signed-in
user (nothing loaded from elsewhere: the page's CSP allows only 'self')."""

from __future__ import annotations

from playwright.async_api import Request, expect

from tests.e2e.conftest import Contexts, LiveServer
from tests.e2e.demo import Demo
from tests.e2e.helpers import sign_in


async def test_graphiql_runs_a_query_as_the_signed_in_user(
    contexts: Contexts, demo: Demo, live: LiveServer
) -> None:
    patient = await demo.patient("Ana", "Graph")
    page = await contexts.new_page()
    elsewhere: list[str] = []
    assets: list[str] = []

    def note(request: Request) -> None:
        if not request.url.startswith(live.url):
            elsewhere.append(request.url)
        elif "/assets/" in request.url:
            assets.append(request.url.rsplit("/", 1)[-1])

    page.on("request", note)
    await sign_in(page, patient.account)
    # The app never fetches the IDE (GraphiQL, React, CodeMirror): a lazy chunk of this page.
    assert not [a for a in assets if a.startswith(("ide-", "codemirror-"))], assets
    await page.goto("/graphiql.html")
    # The editor holds the example query once GraphiQL has started.
    await expect(page.locator(".graphiql-query-editor")).to_contain_text("myAppointments")
    result = page.locator(".graphiql-response")
    await page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()
    await expect(result).to_contain_text('"myAppointments": []', timeout=15_000)
    assert elsewhere == []
    assert [a for a in assets if a.startswith("ide-") and a.endswith(".js")], assets
    assert contexts.page_errors == []
