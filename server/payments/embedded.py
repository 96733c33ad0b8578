"""Embedded localstripe (PyPI: a stateful local Stripe server), started like the nats-server.

It serves the Stripe API and a Stripe.js stand-in (`/js.stripe.com/v3/`) on 127.0.0.1 and
delivers signed webhooks to the URL registered at `/_config/webhooks/<name>`. Its state lives in
its memory only: Markini's database is the record of payments.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from bus.embedded import free_port, wait_for_port
from storage.processes import die_with_parent, read_pid, stop_child, stop_leftover

log = logging.getLogger(__name__)

PID_FILE = "localstripe.pid"
# localstripe accepts any key of the right shape; these never reach Stripe.
LOCAL_SECRET_KEY = "sk_test_markini_localstripe"
LOCAL_PUBLISHABLE_KEY = "pk_test_markini_localstripe"
WEBHOOK_NAME = "markini"
WEBHOOK_PATH = "/api/v1/payments/webhook"
# localstripe's own start() listens on every interface and pickles its store after each write
# into one /tmp file shared by every user of the machine: serve its app on loopback only and
# keep the state in memory.
LAUNCHER = """
import socket, sys
from aiohttp import web
from localstripe import resources, server
resources.Store.dump_to_disk = lambda self: None
# Stripe declines its decline test cards (4000000000000002 ...) on charge too; localstripe
# only when they are attached to a customer.
charging_is_declined = resources.PaymentMethod._charging_is_declined
resources.PaymentMethod._charging_is_declined = (
    lambda self: charging_is_declined(self) or resources.PaymentMethod._attaching_is_declined(self)
)
sock = socket.socket()
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", int(sys.argv[1])))
web.run_app(server.app, sock=sock, access_log=None, print=None)
"""


async def start_localstripe(port: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        LAUNCHER,
        str(port),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=die_with_parent(signal.SIGTERM),
    )


async def register_webhook(api_base: str, name: str, url: str, secret: str) -> None:
    """Tell localstripe where to deliver signed events (its `/_config/webhooks/<name>`)."""
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{api_base}/_config/webhooks/{name}", data={"url": url, "secret": secret}
        ) as response:
            response.raise_for_status()


@asynccontextmanager
async def embedded_localstripe(data_dir: Path, public_url: str) -> AsyncIterator[tuple[str, str]]:
    """Run localstripe on a free loopback port with our webhook registered; yield
    (api base URL, webhook signing secret); stop it on exit."""
    data_dir.mkdir(parents=True, exist_ok=True)
    pid_file = data_dir / PID_FILE
    leftover = read_pid(pid_file)
    if leftover is not None:
        await stop_leftover(leftover, Path(sys.executable).name, "localstripe", signal.SIGTERM)
    port = free_port()
    proc = await start_localstripe(port)
    try:
        pid_file.write_text(f"{proc.pid}\n")
        await wait_for_port(port)
        base = f"http://127.0.0.1:{port}"
        secret = f"whsec_{secrets.token_urlsafe(32)}"
        await register_webhook(base, WEBHOOK_NAME, public_url.rstrip("/") + WEBHOOK_PATH, secret)
        log.info("embedded localstripe ready", extra={"port": port})
        yield base, secret
    finally:
        await stop_child(proc, signal.SIGTERM)
        pid_file.unlink(missing_ok=True)
        log.info("embedded localstripe stopped")
