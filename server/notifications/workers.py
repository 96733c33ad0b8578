"""The notification tasks of a node: the event consumer, the reminder and delivery workers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from server.engines import Engines
from server.notifications.consumer import run_notification_consumer
from server.notifications.delivery import run_delivery_worker
from server.notifications.ports import LiveNotifications
from server.notifications.reminders import run_reminder_worker
from server.tasks import stop_tasks


@asynccontextmanager
async def notification_workers(engines: Engines, live: LiveNotifications) -> AsyncIterator[None]:
    tasks = [
        asyncio.create_task(run_notification_consumer(engines, live)),
        asyncio.create_task(run_reminder_worker(engines, live)),
        asyncio.create_task(run_delivery_worker(engines)),
    ]
    try:
        yield
    finally:
        await stop_tasks(tasks)
