"""The problem handlers' FHIR dialect on its own: even an unexpected error (500) under /fhir/R4
is an OperationOutcome, while the same error elsewhere stays a problem."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from server.fhir.routes import BASE, outcome
from server.problems import PROBLEM_JSON, install_problem_handlers
from tests.server.fhir.test_fhir import valid


def _failing_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app, {BASE: outcome})

    async def fail() -> None:
        raise RuntimeError("a bug")

    app.get(f"{BASE}/Patient/{{resource_id}}")(fail)
    app.get("/api/v1/fail")(fail)
    return app


async def test_a_500_under_fhir_is_an_outcome_and_elsewhere_a_problem() -> None:
    transport = httpx.ASGITransport(app=_failing_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        failed = valid(await client.get(f"{BASE}/Patient/1"), 500)
        assert failed["issue"][0]["code"] == "exception"
        assert failed["issue"][0]["details"]["text"] == "internal-error"
        rest = await client.get("/api/v1/fail")
    assert rest.status_code == 500 and rest.headers["content-type"] == PROBLEM_JSON
