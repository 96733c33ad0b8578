"""Serve the built browser app (web/dist) on "/", with the single-page-app fallback.

Unknown paths outside the API answer index.html so deep links (/doctors/<id>) work on reload;
hashed assets are cached for a year, everything else is revalidated. Mounted last in
create_app, so every API route, /socket.io and /openapi.json win over it. Built by
tools/build_web.py; without a build the server runs API-only.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

log = logging.getLogger(__name__)

DEFAULT_DIST = Path(__file__).resolve().parent.parent / "web" / "dist"
# Paths the app never owns: a miss there is a real 404 (problem+json), never the app's HTML.
BACKEND_PREFIXES = (
    "/api/",
    "/socket.io/",
    "/graphql",
    "/fhir/",
    "/calendar/",
    "/metrics",
    "/healthz",
    "/readyz",
)
# Vite puts content-hashed files here: a name never changes meaning, so caches may keep it.
HASHED_DIR = "assets/"
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def content_security_policy(payment_origins: tuple[str, ...] = ()) -> str:
    """The app loads nothing from elsewhere (no CDN, fonts or tiles; media are local camera
    streams) but Stripe.js, from the payment gateway's origins only (Stripe's, or the
    embedded localstripe's)."""
    pay = "".join(f" {origin}" for origin in payment_origins)
    return (
        f"default-src 'self'; script-src 'self'{pay}; style-src 'self'; "
        f"img-src 'self' data: https:; connect-src 'self' ws: wss:{pay}; "
        f"frame-src 'self'{pay}; media-src 'self' blob:; frame-ancestors 'none'; "
        "base-uri 'self'; form-action 'self'; object-src 'none'"
    )


def _is_backend_path(path: str) -> bool:
    return path == "/api" or path.startswith(BACKEND_PREFIXES)


class SinglePageApp(StaticFiles):
    """StaticFiles that answers index.html for client-side routes and sets cache headers."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if _is_backend_path(scope["path"]):
            raise _backend_miss(scope)
        try:
            response = await super().get_response(path, scope)
        except HTTPException as exc:
            # A missing hashed asset is a stale page asking for an old build: say so plainly.
            if exc.status_code != 404 or path.startswith(HASHED_DIR):
                raise
            path = "index.html"
            response = await super().get_response(path, scope)
        self._decorate(path, response, scope.get("state", {}).get("payment_origins", ()))
        return response

    @staticmethod
    def _decorate(path: str, response: Response, payment_origins: tuple[str, ...]) -> None:
        hashed = path.startswith(HASHED_DIR)
        response.headers["Cache-Control"] = IMMUTABLE if hashed else REVALIDATE
        response.headers["X-Content-Type-Options"] = "nosniff"
        if response.media_type == "text/html" or path in ("", ".", "index.html"):
            response.headers["Content-Security-Policy"] = content_security_policy(payment_origins)
            response.headers["Referrer-Policy"] = "same-origin"


def _backend_miss(scope: Scope) -> HTTPException:
    """404, or 405 naming the allowed methods when an API route has this path (the router
    would say so, but this mount on "/" matches every path before the router gives up)."""
    routes = [route for route in scope["app"].router.routes if not isinstance(route, Mount)]

    def routed(method: str) -> bool:
        probe: Scope = {"type": "http", "path": scope["path"], "root_path": "", "method": method}
        return any(route.matches(probe)[0] is Match.FULL for route in routes)

    allowed = [method for method in _METHODS if routed(method)]
    if allowed:
        return HTTPException(status_code=405, headers={"Allow": ", ".join(allowed)})
    return HTTPException(status_code=404)


def mount_web(app: FastAPI, dist: Path | None = None) -> bool:
    """Mount the built app on "/" (call after every router); False when there is no build."""
    directory = dist or DEFAULT_DIST
    if not (directory / "index.html").is_file():
        log.warning(
            "web app not built: serving the API only",
            extra={"web_dist": str(directory), "hint": "python tools/build_web.py"},
        )
        return False
    app.mount("/", SinglePageApp(directory=directory), name="web")
    return True
