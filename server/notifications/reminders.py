"""Appointment reminders: when they fall due, and the worker that sends them.

Offsets are minutes before the start. Whole days count in calendar days of the practice's zone
(a "24 h" reminder of a 10:00 visit comes at 10:00 the day before, even across a DST change);
other offsets count elapsed time. Reminders are rows (notify.reminders) claimed with FOR UPDATE
SKIP LOCKED, so each is sent by one node; the claim, the messages and the "sent" mark commit
together. After a downtime a late reminder is still sent while it is useful (less than half its
offset late and before the start) and the closest one only; the others are skipped and logged.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from server import clock
from server.engines import Engines
from server.notifications.context import template_context
from server.notifications.notifier import Outgoing, notify
from server.notifications.ports import LiveNotifications, pushing
from server.settings import Settings
from storage.notify import reminders as store
from storage.notify.parties import appointment_context

log = logging.getLogger(__name__)

MINUTES_PER_DAY = 1440
BATCH = 100
ACTIVE = ("scheduled", "confirmed")


def due_time(start: datetime, time_zone: str, offset_minutes: int) -> datetime:
    """The instant the reminder `offset_minutes` before `start` falls due (see module doc)."""
    days, rest = divmod(offset_minutes, MINUTES_PER_DAY)
    if rest:
        return start - timedelta(minutes=offset_minutes)
    zone = ZoneInfo(time_zone)
    local = start.astimezone(zone).replace(tzinfo=None) - timedelta(days=days)
    return local.replace(tzinfo=zone).astimezone(UTC)


def due_times(
    start: datetime, time_zone: str, offsets: Iterable[int]
) -> list[tuple[int, datetime]]:
    return [(offset, due_time(start, time_zone, offset)) for offset in sorted(set(offsets))]


def still_useful(reminder: store.DueReminder, now: datetime) -> bool:
    late = now - reminder.due_at
    return now < reminder.starts_at and late <= timedelta(minutes=reminder.offset_minutes / 2)


def new_reference() -> str:
    """The code an SMS reply names ("C 4821"): tells one reminder from the patient's others."""
    return str(1000 + secrets.randbelow(9000))


async def send_due_reminders(con: asyncpg.Connection, settings: Settings, limit: int) -> int:
    """Claim and handle up to `limit` due reminders in one transaction; returns how many."""
    now = clock.now()
    async with con.transaction():
        due = await store.claim_due(con, now, limit)
        for reminder in due:
            key = (reminder.appointment_id, reminder.offset_minutes)
            ctx = await appointment_context(con, reminder.appointment_id)
            if ctx is None or ctx.status not in ACTIVE or not ctx.acting:
                await store.finish(con, *key, "cancelled", now, "appointment not active")
                continue
            if reminder.superseded or not still_useful(reminder, now):
                why = "a closer reminder is due" if reminder.superseded else "missed: too late"
                log.warning(
                    "reminder skipped",
                    extra={"appointment_id": str(ctx.id), "offset_minutes": key[1], "why": why},
                )
                await store.finish(con, *key, "skipped", now, why)
                continue
            # One reference for everyone acting for the patient: a reply is matched by its
            # sender's number too (storage.notify.messages.latest_sms_reminder).
            reference = new_reference()
            cause = f"reminder:{ctx.id}:{key[1]}:{reminder.starts_at.isoformat()}"
            for person in ctx.acting:
                context = {**template_context(settings, ctx, person), "reference": reference}
                await notify(
                    con,
                    Outgoing(
                        cause,
                        "appointment.reminder",
                        person,
                        context,
                        appointment_id=ctx.id,
                        reference=reference,
                    ),
                    now,
                )
            await store.finish(con, *key, "sent", now)
    return len(due)


async def run_reminder_worker(engines: Engines, live: LiveNotifications | None) -> None:
    """Forever: send what is due, then wait for the next poll."""
    settings = engines.settings
    while True:
        try:
            async with engines.pool.acquire() as con:
                while True:
                    async with pushing(live):
                        claimed = await send_due_reminders(con, settings, BATCH)
                    if claimed < BATCH:
                        break
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("reminder worker failed; retrying")
        await asyncio.sleep(settings.notify_poll_interval_s)
