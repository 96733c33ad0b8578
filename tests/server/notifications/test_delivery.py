"""The delivery log: at most once across a crash, retries only for transient refusals."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import httpx
import pytest
import time_machine

from server import clock
from server.notifications.delivery import recover_stale, send_due_messages
from server.notifications.providers import Providers, SmtpProvider
from server.settings import Settings
from storage.notify.messages import Message, NewMessage, queue_message
from tests.factories import make_patient
from tests.server.notifications.conftest import Mailbox
from tests.server.notifications.helpers import eventually, message_rows


def _email(key: str, to: str) -> NewMessage:
    return NewMessage(
        dedup_key=key,
        user_id=None,
        kind="appointment.reminder",
        channel="email",
        recipient=to,
        subject="Reminder",
        body="See you tomorrow.\n",
    )


class CrashAfterHandOver(SmtpProvider):
    """Hands the message to the SMTP server, then the worker dies before recording it."""

    async def send(self, message: Message) -> str | None:
        await super().send(message)
        raise asyncio.CancelledError


async def test_a_crash_between_sending_and_recording_does_not_send_twice(
    pool: asyncpg.Pool, db: asyncpg.Connection, settings: Settings, mailbox: Mailbox
) -> None:
    assert settings.smtp_url is not None
    url = settings.smtp_url.get_secret_value()
    await queue_message(db, _email("crash:1", "jeanne@example.test"), clock.now())
    with pytest.raises(asyncio.CancelledError):
        await send_due_messages(pool, Providers(CrashAfterHandOver(url, "M <m@x.test>"), None))
    assert len(mailbox.messages) == 1
    [row] = await message_rows(db, dedup_key="crash:1")
    assert row["status"] == "sending" and row["attempts"] == 1

    healthy = Providers(SmtpProvider(url, "M <m@x.test>"), None)
    assert await send_due_messages(pool, healthy) == 0  # 'sending' is not 'queued'
    lease = timedelta(seconds=settings.notify_send_lease_s)
    with time_machine.travel(clock.now() + lease + timedelta(seconds=1), tick=True):
        await recover_stale(pool, settings.notify_send_lease_s)
        assert await send_due_messages(pool, healthy) == 0
    [row] = await message_rows(db, dedup_key="crash:1")
    assert row["status"] == "unconfirmed" and "possibly sent" in row["last_error"]
    assert len(mailbox.messages) == 1


async def test_transient_refusals_back_off_and_permanent_ones_stop(
    pool: asyncpg.Pool, db: asyncpg.Connection, settings: Settings, mailbox: Mailbox
) -> None:
    assert settings.smtp_url is not None
    providers = Providers(SmtpProvider(settings.smtp_url.get_secret_value(), "m@x.test"), None)
    mailbox.refuse = {
        "busy@example.test": "451 4.3.0 Try again later",
        "nobody@example.test": "550 5.1.1 No such user",
    }
    now = clock.now()
    for key, to in (("t", "busy@example.test"), ("p", "nobody@example.test")):
        await queue_message(db, _email(key, to), now)
    await send_due_messages(pool, providers)
    [busy] = await message_rows(db, dedup_key="t")
    [nobody] = await message_rows(db, dedup_key="p")
    assert nobody["status"] == "failed" and "550" in nobody["last_error"]
    assert busy["status"] == "queued" and busy["attempts"] == 1
    first_wait = busy["next_attempt_at"] - now
    assert timedelta(seconds=29) < first_wait < timedelta(seconds=60)

    mailbox.refuse = {}
    with time_machine.travel(busy["next_attempt_at"] + timedelta(seconds=1), tick=True):
        assert await send_due_messages(pool, providers) == 1
    [busy] = await message_rows(db, dedup_key="t")
    assert (busy["status"], busy["attempts"]) == ("sent", 2)
    assert [m["To"] for m in mailbox.messages] == ["busy@example.test"]


async def test_without_providers_messages_land_once_in_the_dev_mailbox(
    pool: asyncpg.Pool, db: asyncpg.Connection, settings: Settings
) -> None:
    patient = await make_patient(db, settings)
    now = clock.now()
    await queue_message(db, _email("dev:1", patient.user.email), now)
    assert not await queue_message(db, _email("dev:1", patient.user.email), now)  # same cause
    counts = await asyncio.gather(
        send_due_messages(pool, Providers(None, None)),
        send_due_messages(pool, Providers(None, None)),
    )
    assert sorted(counts) == [0, 1]
    rows = await db.fetch("SELECT recipient, subject FROM notify.dev_mailbox")
    assert [tuple(r) for r in rows] == [(patient.user.email, "Reminder")]


async def test_password_reset_waiting_in_the_auth_outbox_is_sent_over_smtp(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, mailbox: Mailbox
) -> None:
    patient = await make_patient(db, settings)
    response = await client.post("/api/v1/auth/forgot-password", json={"email": patient.user.email})
    assert response.status_code in (200, 202, 204), response.text

    async def sent() -> list[object]:
        return list(mailbox.to(patient.user.email))

    [reset] = await eventually(sent, lambda found: len(found) == 1)
    assert "/reset-password?token=" in reset.get_body(("plain",)).get_content()

    async def outbox_row() -> asyncpg.Record | None:
        return await db.fetchrow("SELECT sent_at, attempts FROM notify.outbox")

    # The SMTP server has the message before the worker records it as sent: wait for the record.
    row = await eventually(outbox_row, lambda r: r is not None and r["sent_at"] is not None)
    assert row is not None and row["attempts"] == 1
