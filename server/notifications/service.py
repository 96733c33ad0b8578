"""The bell, preferences and reminder settings as the API serves them."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from server import clock
from server.auth.principal import Principal
from server.errors import Forbidden, NotFound
from server.notifications.schemas import (
    Delivery,
    DeliveryLog,
    Mailbox,
    MailboxEntry,
    Notification,
    NotificationPage,
    Preferences,
    ReminderSettings,
)
from server.settings import Settings
from storage.notify import inbox, preferences
from storage.notify import messages as message_store
from storage.notify import reminders as reminder_store
from storage.scheduling.parties import doctor_id_for_user

PAGE = 30


async def notifications_page(
    pool: asyncpg.Pool, principal: Principal, before: datetime | None, limit: int
) -> NotificationPage:
    rows = await inbox.page(pool, principal.user_id, before, limit + 1)
    items = [Notification(**dict(r)) for r in rows[:limit]]
    return NotificationPage(
        items=items,
        unread_count=await inbox.unread_count(pool, principal.user_id),
        next_before=items[-1].created_at if len(rows) > limit else None,
    )


async def mark_read(pool: asyncpg.Pool, principal: Principal, ids: list[uuid.UUID] | None) -> int:
    """Mark them read (only the caller's own); returns the unread count left."""
    await inbox.mark_read(pool, principal.user_id, ids, clock.now())
    return await inbox.unread_count(pool, principal.user_id)


async def get_preferences(pool: asyncpg.Pool, principal: Principal) -> Preferences:
    row = await preferences.fetch(pool, principal.user_id)
    return Preferences(**dict(row)) if row is not None else Preferences()


async def save_preferences(
    pool: asyncpg.Pool, principal: Principal, body: Preferences
) -> Preferences:
    await preferences.save(
        pool,
        principal.user_id,
        body.language,
        body.time_zone,
        body.phone,
        body.email,
        body.sms,
        body.in_app,
        clock.now(),
    )
    return body


async def _own_doctor(pool: asyncpg.Pool, principal: Principal) -> uuid.UUID:
    if principal.role != "doctor":
        raise Forbidden("Only doctors set their practice's reminders.")
    doctor_id = await doctor_id_for_user(pool, principal.user_id)
    if doctor_id is None:
        raise NotFound("No doctor profile.")
    return doctor_id


async def get_reminder_settings(
    pool: asyncpg.Pool, settings: Settings, principal: Principal
) -> ReminderSettings:
    doctor_id = await _own_doctor(pool, principal)
    offsets = await reminder_store.offsets_of_doctor(pool, doctor_id)
    chosen = settings.reminder_offsets_minutes if offsets is None else offsets
    return ReminderSettings(offsets_minutes=chosen)


async def save_reminder_settings(
    pool: asyncpg.Pool, principal: Principal, body: ReminderSettings
) -> ReminderSettings:
    """Applies to appointments booked or moved from now on (planned reminders stay)."""
    doctor_id = await _own_doctor(pool, principal)
    await reminder_store.set_offsets_of_doctor(pool, doctor_id, body.offsets_minutes, clock.now())
    return body


async def delivery_log(pool: asyncpg.Pool, appointment_id: uuid.UUID) -> DeliveryLog:
    rows = await message_store.delivery_log(pool, appointment_id)
    return DeliveryLog(items=[Delivery(**dict(r)) for r in rows])


async def dev_mailbox(pool: asyncpg.Pool, channel: str | None, limit: int) -> Mailbox:
    rows = await message_store.dev_mailbox(pool, channel, limit)  # type: ignore[arg-type]
    return Mailbox(items=[MailboxEntry(**dict(r)) for r in rows])
