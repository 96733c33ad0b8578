"""`markini` command line: serve, migrate, seed, create-admin, audit verify, analytics rebuild."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractContextManager, AsyncExitStack, asynccontextmanager, nullcontext
from types import FrameType

import uvicorn

from server.app import StartUp, create_app
from server.datadir import DataDirInUse, hold_data_dir
from server.engines import Engines, open_engines
from server.http11 import UVICORN_OPTIONS
from server.logs import configure_logging
from server.settings import Settings

log = logging.getLogger(__name__)

# A stop ends within this bound whatever hangs (issue #25): supervisors SIGKILL after ~10 s,
# and the engines, stopped by their parent-death signal then, need a moment of that too.
STOP_DEADLINE_S = 8.0
# Open HTTP requests and sockets get this long to finish before they are cancelled.
GRACEFUL_SHUTDOWN_S = 2


def data_dir_lock(settings: Settings) -> AbstractContextManager[None]:
    """The data dir lock, when this process runs an embedded engine on it."""
    if settings.database_url and settings.nats_url:
        return nullcontext()
    return hold_data_dir(settings.data_dir)


@asynccontextmanager
async def engines_only(settings: Settings) -> AsyncIterator[Engines]:
    """Engines without the HTTP app, for one-shot commands."""
    async with AsyncExitStack() as stack:
        yield await open_engines(settings, stack)


class Server(uvicorn.Server):
    """uvicorn with a bounded stop: a stop signal interrupts a start-up in progress, a second
    one exits at once, and a stop that outlasts STOP_DEADLINE_S is cut short. The embedded
    engines then stop on their own (parent-death signal, storage/processes.py)."""

    def __init__(self, config: uvicorn.Config, startup: StartUp) -> None:
        super().__init__(config)
        self._startup = startup

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit:
            log.warning("second stop signal: exiting now")
            _exit_now(128 + sig)
        super().handle_exit(sig, frame)
        self._startup.interrupt()
        deadline = threading.Timer(STOP_DEADLINE_S, _stop_overdue)
        deadline.daemon = True
        deadline.start()


def _stop_overdue() -> None:
    log.error("stop still not done after %s s: exiting now", STOP_DEADLINE_S)
    _exit_now(1)


def _exit_now(status: int) -> None:
    logging.shutdown()
    os._exit(status)


def _run(settings: Settings, job: Callable[[Engines], Awaitable[None]]) -> None:
    async def main() -> None:
        async with engines_only(settings) as engines:
            await job(engines)

    with data_dir_lock(settings):
        asyncio.run(main())


async def _seed(engines: Engines) -> None:
    from server.seed import seed_demo

    await seed_demo(engines)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> None:
    app = create_app(settings, seed_demo=args.demo)
    # What imports and the app built (modules, routes, pydantic schemas) lives as long as the
    # process: frozen out of the cyclic collector's sight, requests that allocate much (a month
    # of slots, ~10k objects) stop paying for rescanning it (a third of a slots request's CPU).
    gc.collect()
    gc.freeze()
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_config=None,
        **UVICORN_OPTIONS,  # server/http11.py
        # X-Forwarded-For is believed only from MARKINI_TRUSTED_PROXIES (server.app), not from
        # uvicorn's default of 127.0.0.1.
        proxy_headers=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    with data_dir_lock(settings):
        Server(config, app.state.startup).run()


def cmd_migrate(settings: Settings, _: argparse.Namespace) -> None:
    async def noop(_: Engines) -> None:  # open_engines applies the migrations
        return None

    _run(settings, noop)
    log.info("migrations applied")


def cmd_seed(settings: Settings, _: argparse.Namespace) -> None:
    _run(settings, _seed)


def cmd_create_admin(settings: Settings, args: argparse.Namespace) -> None:
    """Admins never self-register; exit status 1 when the email or password is refused."""
    from server.auth.service import create_admin
    from server.errors import MarkiniError

    async def create(engines: Engines) -> None:
        user = await create_admin(engines, args.email, args.password)
        log.info("admin account ready", extra={"user_id": str(user.id), "email": user.email})

    try:
        _run(settings, create)
    except MarkiniError as exc:
        log.error("admin not created: %s", exc.detail, extra={"errors": exc.extra})
        sys.exit(1)


def cmd_audit_verify(settings: Settings, _: argparse.Namespace) -> None:
    """Walk the sealed audit hash chain, then look for entries the sealer left behind (older
    than service.MAX_UNSEALED_AGE); exit status 1 on either problem."""
    from server.audit.service import verify_chain
    from server.engines import database_url
    from storage.pool import open_pool

    async def verify() -> bool:
        async with AsyncExitStack() as stack:
            dsn = await database_url(settings, stack)
            pool = await stack.enter_async_context(open_pool(dsn, max_size=2))
            report = await verify_chain(pool)
        sys.stdout.write(report.describe() + "\n")
        return report.ok

    with data_dir_lock(settings):
        ok = asyncio.run(verify())
    if not ok:
        sys.exit(1)


def cmd_search_reindex(settings: Settings, _: argparse.Namespace) -> None:
    """Rebuild the doctor search index from PostgreSQL, with a progress bar on stderr."""
    from server.search.progress import TextProgress
    from server.search.reindex import reindex
    from server.search.service import cache_for

    async def job(engines: Engines) -> None:
        progress = TextProgress(sys.stderr)
        report = await reindex(engines.pool, engines.search, cache_for(engines), progress)
        progress.finish()
        log.info("search index rebuilt", extra=report.__dict__)

    _run(settings, job)


def cmd_analytics_rebuild(settings: Settings, _: argparse.Namespace) -> None:
    """Recompute the analytics rollups from the appointments and payments (after a bulk load or
    a restore); the consumer "analytics" keeps them from then on."""
    from server.analytics.rollups import rebuild

    async def job(engines: Engines) -> None:
        async with engines.pool.acquire() as con:
            days = await rebuild(con)
        log.info("analytics rollups rebuilt", extra={"days": days})

    _run(settings, job)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="markini", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="seed demo data first")
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("seed", help="load demo data").set_defaults(func=cmd_seed)
    admin = sub.add_parser("create-admin", help="create an admin account")
    admin.add_argument("--email", required=True)
    admin.add_argument("--password", required=True)
    admin.set_defaults(func=cmd_create_admin)
    audit = sub.add_parser("audit", help="audit trail tools").add_subparsers(
        dest="audit_command", required=True
    )
    audit.add_parser("verify", help="check the audit hash chain").set_defaults(
        func=cmd_audit_verify
    )
    search = sub.add_parser("search", help="doctor search tools").add_subparsers(
        dest="search_command", required=True
    )
    search.add_parser("reindex", help="rebuild the search index").set_defaults(
        func=cmd_search_reindex
    )
    analytics = sub.add_parser("analytics", help="analytics tools").add_subparsers(
        dest="analytics_command", required=True
    )
    analytics.add_parser("rebuild", help="rebuild the analytics rollups").set_defaults(
        func=cmd_analytics_rebuild
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level)
    try:
        args.func(settings, args)
    except DataDirInUse as exc:
        sys.exit(f"markini: {exc}")


if __name__ == "__main__":
    main(sys.argv[1:])
