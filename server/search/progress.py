"""A plain-text progress bar for command-line jobs, drawn on a stream (stderr), one line per
phase, redrawn in place."""

from __future__ import annotations

from typing import TextIO

WIDTH = 30


class TextProgress:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._phase: str | None = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        if self._phase is not None and phase != self._phase:
            self._stream.write("\n")
        self._phase = phase
        filled = WIDTH if total <= 0 else WIDTH * done // total
        percent = 100 if total <= 0 else 100 * done // total
        bar = "#" * filled + "." * (WIDTH - filled)
        self._stream.write(f"\r{phase:<14} [{bar}] {percent:3d}% {done}/{total}")
        self._stream.flush()

    def finish(self) -> None:
        if self._phase is not None:
            self._stream.write("\n")
            self._stream.flush()
