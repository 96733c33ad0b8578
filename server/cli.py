"""`markini` command line: serve, migrate, seed, create-admin, audit verify."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager

import uvicorn

from server.app import create_app
from server.engines import Engines, open_engines
from server.logs import configure_logging
from server.settings import Settings

log = logging.getLogger(__name__)


@asynccontextmanager
async def engines_only(settings: Settings) -> AsyncIterator[Engines]:
    """Engines without the HTTP app, for one-shot commands."""
    async with AsyncExitStack() as stack:
        yield await open_engines(settings, stack)


def _run(settings: Settings, job: Callable[[Engines], Awaitable[None]]) -> None:
    async def main() -> None:
        async with engines_only(settings) as engines:
            await job(engines)

    asyncio.run(main())


async def _seed(engines: Engines) -> None:
    from server.seed import seed_demo

    await seed_demo(engines)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> None:
    app = create_app(settings, seed_demo=args.demo)
    # No permessage-deflate: Socket.IO frames are small JSON, and each compressing socket
    # holds ~150 KiB of zlib state (bench/idle_sockets.py).
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_config=None,
        ws="websockets",
        ws_per_message_deflate=False,
    )


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
    """Walk the audit hash chain; exit status 1 when it is broken."""
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

    if not asyncio.run(verify()):
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
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level)
    args.func(settings, args)


if __name__ == "__main__":
    main(sys.argv[1:])
