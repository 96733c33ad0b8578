"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from bus.relay import outbox_lag
from server import clock
from server.deps import get_engines
from server.engines import Engines
from server.metrics import Metrics

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="This node can serve: PostgreSQL is reachable",
    description=(
        "200 while PostgreSQL answers, 503 when it does not. NATS being away does not make a "
        "node unready (changes wait in the outbox and are published when it is back): its "
        "state and the outbox lag are reported in `details`, and as metrics. Neither does "
        "Redis (`MARKINI_REDIS_URL`): while it is unreachable, rate limits count on each node "
        "alone and `details.rate_limits` says `per node (Redis unreachable)`; otherwise "
        "`shared`."
    ),
    responses={503: {"description": "PostgreSQL is unreachable: take this node out"}},
)
async def readyz(request: Request) -> JSONResponse:
    engines = get_engines(request)
    registry: Metrics = request.app.state.metrics
    checks: dict[str, str] = {}
    details: dict[str, object] = {}
    try:
        await engines.pool.fetchval("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # readiness reports failures, it never raises
        checks["database"] = f"error: {type(exc).__name__}"
    nats_ok = engines.bus.nc.is_connected
    registry.nats_connected.set(1 if nats_ok else 0)
    details["nats"] = "connected" if nats_ok else "disconnected"
    if checks["database"] == "ok":
        pending, age = await _outbox(engines, registry)
        details["outbox"] = {"pending": pending, "oldest_age_s": round(age, 3)}
    if engines.settings.redis_url:
        details["rate_limits"] = (
            "shared" if engines.limiter.shared else "per node (Redis unreachable)"
        )
    ready = checks["database"] == "ok"
    body = {"status": "ready" if ready else "not ready", "checks": checks, "details": details}
    return JSONResponse(body, status_code=200 if ready else 503)


async def _outbox(engines: Engines, registry: Metrics) -> tuple[int, float]:
    pending, age = await outbox_lag(engines.pool, clock.now())
    registry.outbox_pending.set(pending)
    registry.outbox_lag.set(age)
    return pending, age


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    engines = get_engines(request)
    registry: Metrics = request.app.state.metrics
    registry.nats_connected.set(1 if engines.bus.nc.is_connected else 0)
    await _outbox(engines, registry)
    return Response(registry.render(), media_type="text/plain; version=0.0.4")
