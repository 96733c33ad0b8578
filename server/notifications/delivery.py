"""The delivery worker: sends queued messages and records each attempt in notify.messages.

Guarantees (docs in README "Notifications"):
- dev mailbox: the claim, the mailbox row and the "sent" mark commit together: exactly once.
- SMTP / Twilio: the row is marked 'sending' (and committed) before the provider is called and
  'sent' with the provider's id after. A worker that dies in between leaves 'sending'; after
  MARKINI_NOTIFY_SEND_LEASE_S such a row becomes 'unconfirmed' and is NOT sent again: at most
  once across crashes (an email keeps its stable Message-ID, so a manual resend is deduped by
  mail systems). A provider refusal is retried with exponential back-off when transient
  (network, 4xx SMTP, Twilio 429/5xx), never when permanent (bad address, unsubscribed).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import asyncpg

from server import clock
from server.engines import Engines
from server.notifications.notifier import SECURITY_KINDS
from server.notifications.outbox import send_auth_outbox
from server.notifications.providers import (
    DeliveryFailed,
    Providers,
    email_provider,
    sms_provider,
)
from storage.notify import messages as store
from storage.notify.messages import Message

log = logging.getLogger(__name__)

BATCH = 50
MAX_ATTEMPTS = 8
FIRST_RETRY_S = 30
MAX_RETRY_S = 3600
DEV_MAILBOX = "dev-mailbox"


def _secret(message: Message) -> bool:
    """Sign-in codes do not outlive their sending in the log (only their hash is kept)."""
    return message.kind in SECURITY_KINDS


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at an hour, after the `attempts`-th failure."""
    return timedelta(seconds=min(MAX_RETRY_S, FIRST_RETRY_S * 2 ** max(0, attempts - 1)))


async def _record_failure(
    pool: asyncpg.Pool, message: Message, error: DeliveryFailed, now: datetime
) -> None:
    if error.permanent or message.attempts >= MAX_ATTEMPTS:
        log.warning(
            "message failed",
            extra={"message_id": str(message.id), "channel": message.channel, "error": str(error)},
        )
        await store.mark_failed(pool, message.id, str(error), _secret(message))
    else:
        await store.mark_retry(pool, message.id, str(error), now + retry_delay(message.attempts))


async def send_due_messages(pool: asyncpg.Pool, providers: Providers, limit: int = BATCH) -> int:
    """One round: claim what is due, deliver it, record the outcome; returns how many claimed."""
    now = clock.now()
    external: list[Message] = []
    async with pool.acquire() as con, con.transaction():
        claimed = await store.claim_due(con, now, limit)
        for message in claimed:
            if providers.for_channel(message.channel) is None:
                await store.deliver_to_dev_mailbox(con, message, now)
                await store.mark_sent(con, message.id, DEV_MAILBOX, now, _secret(message))
            else:
                external.append(message)
    for message in external:
        provider = providers.for_channel(message.channel)
        assert provider is not None
        try:
            provider_id = await provider.send(message)
        except DeliveryFailed as exc:
            await _record_failure(pool, message, exc, clock.now())
            continue
        await store.mark_sent(pool, message.id, provider_id, clock.now(), _secret(message))
    return len(claimed)


async def recover_stale(pool: asyncpg.Pool, lease_s: int) -> None:
    claimed_before = clock.now() - timedelta(seconds=lease_s)
    for message_id in await store.give_up_stale(pool, claimed_before, sorted(SECURITY_KINDS)):
        log.warning("message possibly sent, not resent", extra={"message_id": str(message_id)})


async def run_delivery_worker(engines: Engines) -> None:
    """Forever: recover stale claims, send the auth outbox and the due messages, then wait."""
    settings = engines.settings
    sms = sms_provider(settings)
    providers = Providers(email_provider(settings), sms)
    try:
        while True:
            try:
                await recover_stale(engines.pool, settings.notify_send_lease_s)
                await send_auth_outbox(engines.pool, settings, providers)
                while await send_due_messages(engines.pool, providers) == BATCH:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("delivery worker failed; retrying")
            await asyncio.sleep(settings.notify_poll_interval_s)
    finally:
        if sms is not None:
            await sms.close()
