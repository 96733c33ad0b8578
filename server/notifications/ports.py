"""What notifications need from the live transport, as a port, and the after-commit push.

A notification is stored first (notify.in_app: the bell's history); the push to the user's open
sockets happens after the transaction that stored it commits, through `LiveNotifications`
(`realtime/notifications.py` implements it on Socket.IO; `server/app.py` wires it). A push lost
to a crash right after the commit is not lost to the user: the bell reloads the stored page on
every (re)connect.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Protocol

from starlette.requests import HTTPConnection

from server.notifications.events import NotificationCreated

log = logging.getLogger(__name__)


class LiveNotifications(Protocol):
    async def push(self, notification: NotificationCreated) -> None:
        """Send it to the user's /notifications sockets on every node."""


_pending: ContextVar[list[NotificationCreated] | None] = ContextVar("pending", default=None)


def to_push(notification: NotificationCreated) -> None:
    """Called where a notification is stored: pushed when the enclosing `pushing` ends well."""
    pending = _pending.get()
    if pending is not None:
        pending.append(notification)


@asynccontextmanager
async def pushing(live: LiveNotifications | None) -> AsyncIterator[None]:
    """Around a transaction that may store notifications: push them once it has committed
    (nothing is pushed when the block raises, i.e. when the transaction rolled back)."""
    token = _pending.set([])
    try:
        yield
        stored = _pending.get() or []
    finally:
        _pending.reset(token)
    if live is None:
        return
    for notification in stored:
        try:
            await live.push(notification)
        except Exception:  # stored already: the bell shows it at the next load
            log.exception("live notification push failed", extra={"id": str(notification.id)})


def get_live_notifications(connection: HTTPConnection) -> LiveNotifications | None:
    """`Depends(get_live_notifications)`: the node's port, as the app's lifespan made it."""
    live: LiveNotifications | None = getattr(connection.state, "live_notifications", None)
    return live
