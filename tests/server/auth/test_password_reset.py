"""Forgotten passwords: emailed single-use links, no account enumeration."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import uuid
from datetime import timedelta

import asyncpg
import httpx
import pytest

from server import clock
from server.notifications.render import UnrenderableMessage, render, render_queued
from server.settings import Settings
from storage import notify as notify_store
from tests.server.auth.conftest import API, PASSWORD, bearer, login, new_email, signed_up, snapshot

NEW_PASSWORD = "a brand new passphrase"


async def forgot(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post(f"{API}/forgot-password", json={"email": email})


async def reset_token_from_email(db: asyncpg.Connection, settings: Settings, email: str) -> str:
    """The token in the latest reset email, as the sender will render it at send time."""
    message_id = await db.fetchval(
        """SELECT id FROM notify.outbox WHERE recipient = $1 AND template = 'password-reset'
           ORDER BY created_at DESC LIMIT 1""",
        email,
    )
    rendered = await render_queued(db, settings, message_id)
    assert rendered is not None
    match = re.search(r"/reset-password\?token=([A-Za-z0-9_-]+)", rendered.body)
    assert match, rendered.body
    return match.group(1)


async def reset(
    client: httpx.AsyncClient, token: str, password: str = NEW_PASSWORD
) -> httpx.Response:
    return await client.post(
        f"{API}/reset-password", json={"token": token, "new_password": password}
    )


async def test_reset_link_sets_a_new_password_and_signs_out_everywhere(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    email, tokens = await signed_up(client)
    response = await forgot(client, email.upper())
    assert response.status_code == 202
    outgoing = await db.fetchrow(
        """SELECT id, channel, recipient, subject FROM notify.outbox
           WHERE template = 'password-reset'"""
    )
    assert (outgoing["channel"], outgoing["recipient"]) == ("email", email)
    rendered = await render_queued(db, settings, outgoing["id"])
    assert rendered is not None
    assert rendered.subject == outgoing["subject"]
    assert f"{settings.public_url}/reset-password?token=" in rendered.body
    token = await reset_token_from_email(db, settings, email)
    # Only the hash is stored.
    assert (
        await db.fetchval("SELECT count(*) FROM auth.password_resets WHERE token_hash = $1", token)
        == 0
    )

    assert (await reset(client, token)).status_code == 204
    assert (await client.get(f"{API}/me", headers=bearer(tokens))).status_code == 401
    assert (await login(client, email, PASSWORD, status=401))["status"] == 401
    await login(client, email, NEW_PASSWORD)
    assert (
        await db.fetchval(
            """SELECT count(*) FROM notify.outbox
               WHERE recipient = $1 AND template = 'password-changed'""",
            email,
        )
        == 1
    )


async def test_unknown_email_gets_the_same_answer_and_no_email(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    email, _ = await signed_up(client)
    before = await snapshot(db)
    unknown = await forgot(client, new_email())
    assert await snapshot(db) == before
    known = await forgot(client, email)
    assert unknown.status_code == known.status_code == 202
    assert unknown.json() == known.json()
    assert await db.fetchval("SELECT count(*) FROM notify.outbox") == 1


async def test_a_reset_token_works_once(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    email, _ = await signed_up(client)
    await forgot(client, email)
    token = await reset_token_from_email(db, settings, email)
    assert (await reset(client, token)).status_code == 204
    before = await snapshot(db)
    again = await reset(client, token, "yet another passphrase")
    assert again.status_code == 410
    assert again.json()["type"] == "/problems/reset-token-gone"
    assert await snapshot(db) == before
    await login(client, email, NEW_PASSWORD)


async def test_racing_uses_of_one_reset_token_succeed_once(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    email, _ = await signed_up(client)
    await forgot(client, email)
    token = await reset_token_from_email(db, settings, email)
    responses = await asyncio.gather(
        *(reset(client, token, f"racing passphrase {i}") for i in range(4))
    )
    assert sorted(r.status_code for r in responses) == [204, 410, 410, 410]


async def test_using_one_link_spends_the_older_ones(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    email, _ = await signed_up(client)
    await forgot(client, email)
    older = await reset_token_from_email(db, settings, email)
    await db.execute("UPDATE notify.outbox SET created_at = created_at - interval '1 minute'")
    await forgot(client, email)
    newer = await reset_token_from_email(db, settings, email)
    assert newer != older
    assert (await reset(client, newer)).status_code == 204
    assert (await reset(client, older)).status_code == 410


async def test_expired_or_unknown_reset_tokens_are_refused(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    email, _ = await signed_up(client)
    await forgot(client, email)
    token = await reset_token_from_email(db, settings, email)
    await db.execute(
        "UPDATE auth.password_resets SET expires_at = $1", clock.now() - timedelta(seconds=1)
    )
    before = await snapshot(db)
    expired = await reset(client, token)
    assert expired.status_code == 410
    unknown = await reset(client, "no-such-token")
    assert unknown.status_code == 400
    assert unknown.json()["type"] == "/problems/reset-token-invalid"
    weak = await reset(client, token, "aaaaaaaaaaaa")
    assert weak.status_code == 422
    assert await snapshot(db) == before
    await login(client, email, PASSWORD)


async def test_the_outbox_keeps_reset_links_sealed_and_rendering_gives_a_working_one(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    email, _ = await signed_up(client)
    await forgot(client, email)
    token = await reset_token_from_email(db, settings, email)
    # Nothing at rest holds the token in clear: not the outbox row, not the reset row.
    outbox = await db.fetchval("SELECT json_agg(o)::text FROM notify.outbox o")
    resets = await db.fetchval("SELECT json_agg(r)::text FROM auth.password_resets r")
    assert token not in outbox and token not in resets
    assert "reset-password?token=" not in outbox
    row = await db.fetchrow("SELECT id, body, params FROM notify.outbox")
    assert row["body"] is None
    assert set(row["params"]["token"]) == {"kid", "nonce", "ct"}
    # The sealed token is bound to its message: moved onto another id it does not open.
    message = await notify_store.queued_message(db, row["id"])
    assert message is not None
    moved = dataclasses.replace(message, id=uuid.uuid4())
    with pytest.raises(UnrenderableMessage):
        render(settings, moved)
    # The rendered link works.
    assert (await reset(client, token)).status_code == 204
    await login(client, email, NEW_PASSWORD)
