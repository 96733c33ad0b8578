"""The ASGI application: one lifespan owns every engine and background task."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI

from bus.relay import run_relay
from realtime.hub import Realtime
from server.audit.middleware import AuditMiddleware
from server.audit.routes import router as audit_router
from server.auth.routes import router as auth_router
from server.doctors.routes import admin_router as doctors_admin_router
from server.doctors.routes import catalogue_router as specializations_router
from server.doctors.routes import router as doctors_router
from server.engines import Engines, open_engines
from server.health import router as health_router
from server.idempotency.middleware import IdempotencyMiddleware
from server.idempotency.openapi import install_idempotency_docs
from server.idempotency.sweeper import run_idempotency_sweeper
from server.metrics import Metrics
from server.middleware import BodyGuardMiddleware, RequestContextMiddleware
from server.patients.routes import router as patients_router
from server.problems import install_problem_handlers
from server.scheduling.availability_routes import router as availability_router
from server.scheduling.holds import run_hold_sweeper
from server.scheduling.routes import router as appointments_router
from server.search.indexer import run_search_indexer
from server.search.routes import router as search_router
from server.settings import Settings
from server.teleconsult.consumer import run_session_consumer
from server.teleconsult.routes import router as teleconsult_router
from server.teleconsult.sweeper import run_session_sweeper
from server.textguard import TextGuardMiddleware
from server.web import mount_web

log = logging.getLogger(__name__)

BackgroundTask = Callable[[Engines], Coroutine[Any, Any, None]]

API_VERSION = "1.0.0"


def _relay(engines: Engines) -> Coroutine[Any, Any, None]:
    return run_relay(engines.pool, engines.bus, engines.settings.outbox_poll_interval_s)


# Every long-running task of a node; each domain that needs one adds it here.
BACKGROUND_TASKS: list[BackgroundTask] = [
    _relay,
    run_hold_sweeper,
    run_search_indexer,
    run_session_consumer,
    run_session_sweeper,
    run_idempotency_sweeper,
]


@asynccontextmanager
async def _background(engines: Engines) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(factory(engines)) for factory in BACKGROUND_TASKS]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def create_app(settings: Settings, *, seed_demo: bool = False) -> FastAPI:
    realtime = Realtime(settings)  # Socket.IO server; its engines are bound in the lifespan

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, Any]]:
        async with AsyncExitStack() as stack:
            engines = await open_engines(settings, stack)
            if seed_demo:
                from server.seed import seed_demo as seed

                await seed(engines)
            await stack.enter_async_context(_background(engines))
            await stack.enter_async_context(realtime.running(engines))
            log.info("markini ready")
            yield {"engines": engines, "realtime": realtime}

    app = FastAPI(
        title="Markini API",
        version=API_VERSION,
        description="Medical appointments: find a doctor, book a slot, meet by video.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = Metrics()
    install_problem_handlers(app)
    install_idempotency_docs(app)
    app.include_router(health_router)
    for router in _domain_routers():
        app.include_router(router)
    # Innermost: a repeated POST with an Idempotency-Key gets the first answer (stored 4xx too).
    app.add_middleware(IdempotencyMiddleware)
    # Then no handler (nor a stored answer) sees text PostgreSQL cannot store: a 422, audited.
    app.add_middleware(TextGuardMiddleware)
    # The audit entry sees the matched route, the principal and the replayed body.
    app.add_middleware(AuditMiddleware)
    # Added last runs first: the request id must exist before the body guard can answer.
    app.add_middleware(BodyGuardMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    app.state.realtime = realtime
    app.mount("/socket.io", realtime.asgi)
    # Keep last: the browser app is mounted on "/" and would shadow anything added after it.
    mount_web(app)
    return app


def _domain_routers() -> list[APIRouter]:
    """One router per domain (each under /api/v1); a new domain adds its router here."""
    return [
        auth_router,
        audit_router,
        doctors_router,
        specializations_router,
        doctors_admin_router,
        patients_router,
        availability_router,
        appointments_router,
        search_router,
        teleconsult_router,
    ]
