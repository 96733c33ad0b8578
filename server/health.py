"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from bus.relay import outbox_lag
from server.deps import get_engines
from server.metrics import Metrics

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="PostgreSQL and NATS are reachable")
async def readyz(request: Request) -> JSONResponse:
    engines = get_engines(request)
    checks: dict[str, str] = {}
    try:
        await engines.pool.fetchval("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # readiness reports failures, it never raises
        checks["database"] = f"error: {type(exc).__name__}"
    checks["nats"] = "ok" if engines.bus.nc.is_connected else "disconnected"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    engines = get_engines(request)
    registry: Metrics = request.app.state.metrics
    pending, age = await outbox_lag(engines.pool)
    registry.outbox_pending.set(pending)
    registry.outbox_lag.set(age)
    return Response(registry.render(), media_type="text/plain; version=0.0.4")
