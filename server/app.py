"""The ASGI application: one lifespan owns every engine and background task."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from bus.relay import run_relay
from realtime.hub import Realtime  # adapters: this module is the composition root
from realtime.notifications import SocketBell
from server import clock
from server.admin.ports import LiveSessions
from server.admin.routes import router as admin_router
from server.analytics.rollups import run_analytics_consumer
from server.analytics.routes import router as analytics_router
from server.audit.middleware import AuditMiddleware
from server.audit.routes import router as audit_router
from server.audit.sealer import run_sealer
from server.auth.routes import router as auth_router
from server.calendar_feeds.routes import feed_router as calendar_feed_router
from server.calendar_feeds.routes import router as calendar_router
from server.doctors.routes import admin_router as doctors_admin_router
from server.doctors.routes import catalogue_router as specializations_router
from server.doctors.routes import router as doctors_router
from server.engines import Engines, open_engines
from server.fhir.routes import BASE as FHIR_BASE
from server.fhir.routes import outcome as fhir_outcome
from server.fhir.routes import router as fhir_router
from server.gdpr.routes import router as gdpr_router
from server.graphql.routes import router as graphql_router
from server.health import router as health_router
from server.idempotency.middleware import IdempotencyMiddleware
from server.idempotency.openapi import install_idempotency_docs
from server.idempotency.sweeper import run_idempotency_sweeper
from server.metrics import Metrics
from server.middleware import BodyGuardMiddleware, RequestContextMiddleware, WebSocketShortcut
from server.notifications.ports import LiveNotifications
from server.notifications.routes import router as notifications_router
from server.notifications.workers import notification_workers
from server.openapi import install_common_answers_docs
from server.patients.ports import LiveAccess
from server.patients.relatives_routes import router as relatives_router
from server.patients.routes import router as patients_router
from server.payments.consumer import run_payments_consumer
from server.payments.reconcile import run_refund_sweeper
from server.payments.routes import router as payments_router
from server.problems import install_problem_handlers
from server.scheduling.availability_routes import router as availability_router
from server.scheduling.holds import run_hold_sweeper
from server.scheduling.release import on_release
from server.scheduling.routes import router as appointments_router
from server.search.indexer import run_search_indexer
from server.search.routes import router as search_router
from server.settings import Settings
from server.tasks import stop_tasks
from server.teleconsult.consumer import run_session_consumer
from server.teleconsult.ports import LiveCalls
from server.teleconsult.routes import router as teleconsult_router
from server.teleconsult.sweeper import run_session_sweeper
from server.textguard import TextGuardMiddleware
from server.waitlist.consumer import run_waitlist_consumer
from server.waitlist.offers import rehold
from server.waitlist.routes import router as waitlist_router
from server.web import mount_web
from signaling.consult import SIGNALING
from signaling.live import SocketCalls

log = logging.getLogger(__name__)

BackgroundTask = Callable[[Engines], Coroutine[Any, Any, None]]

API_VERSION = "1.0.0"


def _relay(engines: Engines) -> Coroutine[Any, Any, None]:
    return run_relay(engines.pool, engines.bus, clock.now, engines.settings.outbox_poll_interval_s)


# A freed slot goes to the first patient waiting for it, in the freeing transaction.
on_release(rehold)

# Every long-running task of a node; each domain that needs one adds it here.
BACKGROUND_TASKS: list[BackgroundTask] = [
    _relay,
    run_hold_sweeper,
    run_search_indexer,
    run_session_consumer,
    run_session_sweeper,
    run_idempotency_sweeper,
    run_sealer,
    run_payments_consumer,
    run_refund_sweeper,
    run_waitlist_consumer,
    run_analytics_consumer,
]


@asynccontextmanager
async def _background(engines: Engines) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(factory(engines)) for factory in BACKGROUND_TASKS]
    try:
        yield
    finally:
        await stop_tasks(tasks)


class StartUp:
    """Lets a stop request interrupt a start-up in progress (engines, migrations, demo data):
    uvicorn would otherwise wait for the whole start-up before it looks at the signal."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None
        self._requested = False
        self._cancelled = False

    async def run(self, start: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
        """Await start; return {} instead when a stop interrupted it. What did start is
        stopped as the lifespan unwinds, at uvicorn's shutdown, which follows at once."""
        self._loop, self._task = asyncio.get_running_loop(), asyncio.current_task()
        try:
            if self._requested:
                start.close()
                return {}
            return await start
        except asyncio.CancelledError:
            if not self._cancelled or self._task is None:
                raise
            self._task.uncancel()
            log.info("start-up interrupted by a stop request")
            return {}
        finally:
            self._task = None

    def interrupt(self) -> None:
        """Safe from a signal handler: the cancel itself runs on the loop."""
        self._requested = True
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._cancel)

    def _cancel(self) -> None:
        if self._task is not None and not self._cancelled:  # still starting
            self._cancelled = True
            self._task.cancel()


SOCKET_IO_PATH = "/socket.io"


def create_app(settings: Settings, *, seed_demo: bool = False) -> FastAPI:
    # Socket.IO server with WebRTC signaling on /consult; its engines are bound in the lifespan.
    realtime = Realtime(settings, consult_extensions=[SIGNALING])
    startup = StartUp()

    async def start(stack: AsyncExitStack) -> dict[str, Any]:
        engines = await open_engines(settings, stack)
        if seed_demo:
            from server.seed import seed_demo as seed

            await seed(engines)
        await stack.enter_async_context(_background(engines))
        await stack.enter_async_context(realtime.running(engines))
        # live_calls: the teleconsultation domain's LiveCalls port (server/teleconsult/ports.py).
        live_calls: LiveCalls = SocketCalls(realtime)
        # Pages may load Stripe.js (or localstripe's stand-in) from these origins only (CSP).
        pay_origins = engines.payments.page_origins if engines.payments else ()
        # live_notifications: the notifications domain's port (server/notifications/ports.py).
        live_notifications: LiveNotifications = SocketBell(realtime)
        await stack.enter_async_context(notification_workers(engines, live_notifications))
        # live_sessions: the admin domain's LiveSessions port (server/admin/ports.py).
        live_sessions: LiveSessions = realtime
        # live_access: the patients domain's LiveAccess port (server/patients/ports.py).
        live_access: LiveAccess = realtime
        return {
            "engines": engines,
            "realtime": realtime,
            "live_calls": live_calls,
            "payment_origins": pay_origins,
            "live_notifications": live_notifications,
            "live_sessions": live_sessions,
            "live_access": live_access,
        }

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, Any]]:
        async with AsyncExitStack() as stack:
            state = await startup.run(start(stack))
            if state:
                log.info("markini ready")
            yield state

    app = FastAPI(
        title="Markini API",
        version=API_VERSION,
        description="Medical appointments: find a doctor, book a slot, meet by video.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.startup = startup
    app.state.metrics = Metrics()
    # FHIR clients read OperationOutcome, not problems: every error under /fhir/R4 is one.
    install_problem_handlers(app, {FHIR_BASE: fhir_outcome})
    install_idempotency_docs(app)
    install_common_answers_docs(app)
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
    # Socket.IO websockets skip the HTTP layers above (a frame each per open socket).
    app.add_middleware(WebSocketShortcut, socket_app=realtime.websocket_asgi, prefix=SOCKET_IO_PATH)
    if settings.trusted_proxies:
        # Outermost: every layer (limits, sessions, audit, logs) sees the client a trusted proxy
        # names; X-Forwarded-For from any other peer is ignored (uvicorn's own is off, cli.py).
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    app.state.realtime = realtime
    app.mount(SOCKET_IO_PATH, realtime.asgi)  # long-polling, and the HTTP layers' view
    # Keep last: the browser app is mounted on "/" and would shadow anything added after it.
    mount_web(app)
    return app


def _domain_routers() -> list[APIRouter]:
    """One router per domain (each under /api/v1); a new domain adds its router here.

    FastAPI tries the routers in this order, every route of each until one matches: the most
    requested come first (bookings and free slots; trying the ~50 routes before them was a fifth
    of a refused booking's CPU). No other router has a path under /api/v1/appointments, so
    putting it first decides nothing else (the OpenAPI document lists its paths first)."""
    return [
        appointments_router,
        auth_router,
        audit_router,
        doctors_router,
        specializations_router,
        doctors_admin_router,
        patients_router,
        relatives_router,
        availability_router,
        search_router,
        teleconsult_router,
        payments_router,
        waitlist_router,
        notifications_router,
        admin_router,
        graphql_router,
        fhir_router,
        calendar_router,
        calendar_feed_router,
        gdpr_router,
        analytics_router,
    ]
