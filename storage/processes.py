"""Engine processes (PostgreSQL, nats-server) tied to the life of the Markini that starts them.

Each engine is our child with a parent-death signal, so the kernel stops it when Markini dies,
however it dies (SIGKILL, OOM). Should one still outlive us (another kernel, an older Markini),
the next start on the data dir finds it by its recorded pid and stops it before starting anew.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import pwd
import signal
import sys
from collections.abc import Callable

import psutil

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# Time an engine gets for a clean stop before it is killed: inside the 10 s a stop may take.
STOP_TIMEOUT_S = 5.0


def die_with_parent(sig: signal.Signals, user: str | None = None) -> Callable[[], None]:
    """A preexec_fn that runs the child as user (when given) and asks the kernel to send it sig
    when its parent dies (Linux). Switches user itself: uvloop's subprocess_exec has no `user=`,
    and the switch must come first, as a change of credentials clears the parent-death signal.
    The kernel signals when the *thread* that spawned the child ends: we spawn from the event
    loop's thread, which lives as long as Markini does."""
    parent = os.getpid()
    account = pwd.getpwnam(user) if user is not None else None
    libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None

    def preexec() -> None:
        if account is not None:
            os.setgroups([])
            os.setgid(account.pw_gid)
            os.setuid(account.pw_uid)
        if libc is not None:
            libc.prctl(PR_SET_PDEATHSIG, int(sig))
            if os.getppid() != parent:  # the parent died before prctl took effect
                os.kill(os.getpid(), sig)

    return preexec


async def stop_child(proc: asyncio.subprocess.Process, sig: signal.Signals) -> None:
    """Ask a child to stop with sig; kill it if it has not exited within STOP_TIMEOUT_S."""
    if proc.returncode is None:
        proc.send_signal(sig)
        try:
            async with asyncio.timeout(STOP_TIMEOUT_S):
                await proc.wait()
        except TimeoutError:
            log.warning("engine did not stop in time, killing it", extra={"pid": proc.pid})
            proc.kill()
            await proc.wait()


async def stop_leftover(pid: int, name: str, marker: str, sig: signal.Signals) -> None:
    """Stop process pid if it is still the engine `name` whose command line holds marker (its
    data path): a leftover of a Markini that died. Only called while we hold the data dir lock,
    so no live Markini owns it."""
    try:
        proc = psutil.Process(pid)
        if proc.name() != name or marker not in " ".join(proc.cmdline()):
            return  # the pid was reused by something else
        log.warning(
            "stopping a leftover engine of a previous run", extra={"pid": pid, "engine": name}
        )
        proc.send_signal(sig)
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return
    try:
        await asyncio.to_thread(proc.wait, STOP_TIMEOUT_S)
    except psutil.TimeoutExpired:
        proc.kill()
    except psutil.NoSuchProcess:
        pass


def read_pid(path: os.PathLike[str]) -> int | None:
    try:
        with open(path) as f:
            return int(f.readline().strip())
    except (OSError, ValueError):
        return None
