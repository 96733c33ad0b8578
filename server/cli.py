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
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, ws="websockets")


def cmd_migrate(settings: Settings, _: argparse.Namespace) -> None:
    async def noop(_: Engines) -> None:  # open_engines applies the migrations
        return None

    _run(settings, noop)
    log.info("migrations applied")


def cmd_seed(settings: Settings, _: argparse.Namespace) -> None:
    _run(settings, _seed)


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
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level)
    args.func(settings, args)


if __name__ == "__main__":
    main(sys.argv[1:])
