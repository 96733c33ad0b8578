"""The ASGI application: one lifespan owns every engine and background task."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import FastAPI

from bus.relay import run_relay
from server.engines import Engines, open_engines
from server.health import router as health_router
from server.metrics import Metrics
from server.middleware import BodyGuardMiddleware, RequestContextMiddleware
from server.problems import install_problem_handlers
from server.settings import Settings

log = logging.getLogger(__name__)

BackgroundTask = Callable[[Engines], Coroutine[Any, Any, None]]

API_VERSION = "1.0.0"


def _relay(engines: Engines) -> Coroutine[Any, Any, None]:
    return run_relay(engines.pool, engines.bus, engines.settings.outbox_poll_interval_s)


# Every long-running task of a node; each domain that needs one adds it here.
BACKGROUND_TASKS: list[BackgroundTask] = [_relay]


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
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, Any]]:
        async with AsyncExitStack() as stack:
            engines = await open_engines(settings, stack)
            if seed_demo:
                from server.seed import seed_demo as seed

                await seed(engines)
            await stack.enter_async_context(_background(engines))
            log.info("markini ready")
            yield {"engines": engines}

    app = FastAPI(
        title="Markini API",
        version=API_VERSION,
        description="Medical appointments: find a doctor, book a slot, meet by video.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = Metrics()
    install_problem_handlers(app)
    app.include_router(health_router)
    for router in _domain_routers():
        app.include_router(router)
    # Added last runs first: the request id must exist before the body guard can answer.
    app.add_middleware(BodyGuardMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    return app


def _domain_routers() -> list[Any]:
    """One router per domain, mounted under /api/v1."""
    routers: list[Any] = []
    return routers
