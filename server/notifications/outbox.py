"""Sends the auth domain's queued messages (notify.outbox: password resets, ...).

Each row stays locked (FOR UPDATE SKIP LOCKED) while it is rendered and handed over, and is
marked sent in that same transaction: one node sends it. A crash during the hand-over rolls the
mark back, so such a message may go twice (its Message-ID is the same both times); a link that
carries a secret is rendered only here, at send time (render_queued).
"""

from __future__ import annotations

import logging

import asyncpg

from server import clock
from server.notifications.providers import DeliveryFailed, Providers
from server.notifications.render import UnrenderableMessage, render_queued
from server.settings import Settings
from storage import notify as store
from storage.notify.messages import Message, deliver_to_dev_mailbox

log = logging.getLogger(__name__)

BATCH = 20


async def send_auth_outbox(pool: asyncpg.Pool, settings: Settings, providers: Providers) -> int:
    """Send up to BATCH queued auth messages; returns how many were tried."""
    async with pool.acquire() as con, con.transaction():
        ids = await store.claim_unsent_outbox(con, BATCH)
        for message_id in ids:
            try:
                rendered = await render_queued(con, settings, message_id)
            except UnrenderableMessage as exc:
                log.error("auth message cannot be rendered", extra={"message_id": str(message_id)})
                await store.record_outbox_result(con, message_id, None, repr(exc))
                continue
            if rendered is None:
                continue
            message = Message(
                id=rendered.id,
                kind="auth",
                channel="email" if rendered.channel == "email" else "sms",
                recipient=rendered.recipient,
                subject=rendered.subject,
                body=rendered.body,
                calendar=None,
                attempts=0,
            )
            now = clock.now()
            provider = providers.for_channel(message.channel)
            if provider is None:
                await deliver_to_dev_mailbox(con, message, now)
            else:
                try:
                    await provider.send(message)
                except DeliveryFailed as exc:
                    await store.record_outbox_result(con, message_id, None, str(exc))
                    continue
            await store.record_outbox_result(con, message_id, now, None)
    return len(ids)
