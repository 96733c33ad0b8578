"""Serving the built browser app: SPA fallback, cache headers, and the API left alone."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from server.problems import install_problem_handlers
from server.web import IMMUTABLE, mount_web


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>Markini</title>")
    (tmp_path / "assets" / "index-3f9a.js").write_text("console.log('app')")
    return tmp_path


def _app(dist: Path | None) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/api/v1/ping")
    async def ping() -> dict[str, bool]:
        return {"pong": True}

    mount_web(app, dist)
    return app


@pytest.fixture
async def web(dist: Path) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app(dist))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_client_side_routes_answer_the_app_page(web: httpx.AsyncClient) -> None:
    for path in ("/", "/doctors/7d1c0d1e-0000-4000-8000-000000000000", "/sign-in?next=%2Fbook"):
        response = await web.get(path)
        assert response.status_code == 200, path
        assert "<title>Markini</title>" in response.text
        assert response.headers["cache-control"] == "no-cache"
        assert "default-src 'self'" in response.headers["content-security-policy"]


async def test_hashed_assets_are_cached_for_a_year(web: httpx.AsyncClient) -> None:
    response = await web.get("/assets/index-3f9a.js")
    assert response.status_code == 200
    assert response.headers["cache-control"] == IMMUTABLE
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_missing_asset_is_a_404_not_the_app_page(web: httpx.AsyncClient) -> None:
    response = await web.get("/assets/index-old.js")
    assert response.status_code == 404
    assert "<title>" not in response.text


async def test_api_routes_win_and_unknown_api_paths_stay_json_problems(
    web: httpx.AsyncClient,
) -> None:
    assert (await web.get("/api/v1/ping")).json() == {"pong": True}
    for path in ("/api/v1/nothing-here", "/socket.io/x", "/api"):
        response = await web.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json", path


async def test_writes_to_app_paths_are_refused(web: httpx.AsyncClient) -> None:
    assert (await web.post("/doctors", json={})).status_code == 405


async def test_without_a_build_the_api_still_serves_and_a_warning_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="server.web"):
        app = _app(tmp_path / "missing")
    assert "web app not built" in caplog.text
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert (await client.get("/api/v1/ping")).status_code == 200
        assert (await client.get("/")).status_code == 404
