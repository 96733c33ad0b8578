"""The app shell: health, readiness, metrics, request ids, problem bodies and the body guard."""

from __future__ import annotations

import httpx
from asgi_lifespan import LifespanManager

from server.app import create_app
from server.settings import Settings


async def test_healthz_and_readyz_report_engines(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok"}
    assert ready.json()["details"] == {
        "nats": "connected",
        "outbox": {"pending": 0, "oldest_age_s": 0},
    }


async def test_a_node_without_nats_stays_ready_and_reports_the_outbox(
    settings: Settings,
) -> None:
    application = create_app(settings)
    async with LifespanManager(application, startup_timeout=60, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            engines = application.state.realtime.engines
            await engines.bus.nc.close()  # as if NATS were down: events wait in the outbox
            registered = await client.post(
                "/api/v1/auth/register",
                json={
                    "email": "n@example.test",
                    "password": "correct horse battery",
                    "role": "doctor",
                },
            )
            assert registered.status_code == 201, registered.text  # the service keeps working
            ready = await client.get("/readyz")
            metrics = (await client.get("/metrics")).text
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ready" and body["details"]["nats"] == "disconnected"
    assert body["details"]["outbox"]["pending"] >= 1
    assert "markini_nats_connected 0.0" in metrics


async def test_request_id_is_echoed_or_generated(client: httpx.AsyncClient) -> None:
    echoed = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    generated = await client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert len(generated.headers["x-request-id"]) == 32


async def test_unknown_route_is_a_problem_body(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404


async def test_oversized_and_non_json_bodies_are_refused(client: httpx.AsyncClient) -> None:
    big = await client.post(
        "/api/v1/auth/login", content=b"x" * 2_000_000, headers={"content-type": "application/json"}
    )
    assert big.status_code == 413
    assert big.json()["type"] == "/problems/payload-too-large"
    form = await client.post(
        "/api/v1/auth/login", content=b"a=b", headers={"content-type": "text/plain"}
    )
    assert form.status_code == 415


async def test_metrics_count_requests_per_route(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    body = (await client.get("/metrics")).text
    assert 'markini_http_requests_total{method="GET",route="/healthz",status="200"}' in body
    assert "markini_outbox_pending_events" in body


async def test_openapi_and_docs_are_served(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert spec["info"]["title"] == "Markini API"
    assert (await client.get("/docs")).status_code == 200


async def test_every_documented_api_error_is_a_problem_body(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    errors = [
        (path, method, status, answer)
        for path, operations in spec["paths"].items()
        if path.startswith("/api/")
        for method, operation in operations.items()
        for status, answer in operation["responses"].items()
        if status.startswith("4")
    ]
    assert errors
    for path, method, status, answer in errors:
        content = answer.get("content", {})
        assert list(content) == ["application/problem+json"], (path, method, status)
        assert content["application/problem+json"]["schema"]["required"] == [
            "type",
            "title",
            "status",
            "detail",
            "code",
        ]
