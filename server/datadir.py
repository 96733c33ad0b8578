"""One live Markini per data dir: an exclusive flock held for the life of the process.

The kernel drops the lock when the process dies, however it dies, so a held lock always means a
live owner, and a free lock means any engine still running on the dir is a leftover to reclaim.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = "markini.lock"


class DataDirInUse(Exception):
    def __init__(self, data_dir: Path, pid: str) -> None:
        owner = f"process {pid}" if pid else "another process"
        super().__init__(
            f"data dir {data_dir} is in use by another Markini ({owner}); stop it first, "
            "or choose another dir with MARKINI_DATA_DIR"
        )


@contextmanager
def hold_data_dir(data_dir: Path) -> Iterator[None]:
    """Lock data_dir for this process, or raise DataDirInUse naming the owner's pid."""
    data_dir.mkdir(parents=True, exist_ok=True)
    # Not O_TRUNC: the owner's pid must stay readable until we hold the lock ourselves.
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(fd, 32, 0).decode(errors="replace").strip()
            raise DataDirInUse(data_dir, owner) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # also releases the lock
