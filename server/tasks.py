"""Background tasks: periodic sweeps that survive hiccups, and a stop within a bound, so a
stuck task can never hold up the shutdown."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable, Sequence

log = logging.getLogger(__name__)

# Long enough for a handler's transaction to roll back, short enough that the engines still
# get their clean stop inside the 10 s a supervisor waits before SIGKILL (issue #25).
STOP_TIMEOUT_S = 3.0


async def sweep_forever(
    sweep: Callable[[], Awaitable[int]], interval_s: float, done: str, logger: logging.Logger
) -> None:
    """Run `sweep` every `interval_s` seconds until cancelled; log `done` with the count it
    returns when non-zero. A failure (a database hiccup) is logged and retried next round."""
    while True:
        try:
            count = await sweep()
            if count:
                logger.info(done, extra={"count": count})
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("%s: sweep failed; retrying", done)
        await asyncio.sleep(interval_s)


async def stop_tasks(tasks: Sequence[asyncio.Task[None]], timeout: float = STOP_TIMEOUT_S) -> None:
    """Cancel tasks and wait for them; cancel again any that swallowed the cancel; give up
    (with their stacks in the log) on those still running at the deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    pending = {t for t in tasks if not t.done()}
    while pending:
        for task in pending:
            task.cancel()
        left = deadline - loop.time()
        if left <= 0:
            break
        _, pending = await asyncio.wait(pending, timeout=min(left, 0.5))
    for task in pending:
        stack = io.StringIO()
        task.print_stack(file=stack)
        log.error(
            "background task did not stop",
            extra={"task": task.get_name(), "stack": stack.getvalue()},
        )
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.error("background task failed", exc_info=task.exception())
