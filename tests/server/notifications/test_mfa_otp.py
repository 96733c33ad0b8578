"""One-time sign-in codes by email (over SMTP) or SMS, beside TOTP, limited and single-use."""

from __future__ import annotations

import re

import asyncpg
import httpx
import pytest

from tests.server.auth.conftest import API, login
from tests.server.auth.test_mfa import enrolled, verify
from tests.server.notifications.conftest import Mailbox
from tests.server.notifications.helpers import eventually, message_rows

pytestmark = pytest.mark.any_hour


async def test_an_emailed_code_signs_in_once_and_does_not_stay_in_the_log(
    client: httpx.AsyncClient, db: asyncpg.Connection, mailbox: Mailbox
) -> None:
    email, _, _, _ = await enrolled(client)
    mfa_token = (await login(client, email))["mfa_token"]
    sent = await client.post(
        f"{API}/mfa/send-code", json={"mfa_token": mfa_token, "channel": "email"}
    )
    assert sent.status_code == 202, sent.text

    async def inbox() -> list[object]:
        return list(mailbox.to(email))

    [message] = await eventually(inbox, lambda found: len(found) == 1)
    found = re.search(r"code is (\d{6})", message.get_body(("plain",)).get_content())
    assert found is not None
    code = found.group(1)
    assert (await verify(client, mfa_token, code)).status_code == 200
    assert (await verify(client, mfa_token, code)).status_code == 401  # one use
    [row] = await eventually(
        lambda: message_rows(db, kind="mfa.code", status="sent"), lambda rows: len(rows) == 1
    )
    assert code not in row["body"]


async def test_an_mfa_token_spent_on_an_emailed_code_gets_no_second_session(
    client: httpx.AsyncClient, db: asyncpg.Connection, mailbox: Mailbox
) -> None:
    email, _, _, _ = await enrolled(client)

    async def emailed_code(mfa_token: str, count: int) -> str:
        sent = await client.post(
            f"{API}/mfa/send-code", json={"mfa_token": mfa_token, "channel": "email"}
        )
        assert sent.status_code == 202, sent.text

        async def inbox() -> list[object]:
            return list(mailbox.to(email))

        messages = await eventually(inbox, lambda found: len(found) == count)
        found = re.search(r"code is (\d{6})", messages[-1].get_body(("plain",)).get_content())
        assert found is not None
        return found.group(1)

    spent = (await login(client, email))["mfa_token"]
    assert (await verify(client, spent, await emailed_code(spent, 1))).status_code == 200
    sessions = await db.fetchval("SELECT count(*) FROM auth.sessions")

    resend = await client.post(
        f"{API}/mfa/send-code", json={"mfa_token": spent, "channel": "email"}
    )
    assert resend.status_code == 401, resend.text
    # A code sent for a later sign-in does not revive the spent token, nor is it used up by it.
    fresh = (await login(client, email))["mfa_token"]
    code = await emailed_code(fresh, 2)
    assert (await verify(client, spent, code)).status_code == 401
    assert await db.fetchval("SELECT count(*) FROM auth.sessions") == sessions
    assert (await verify(client, fresh, code)).status_code == 200


async def test_codes_by_sms_need_a_mobile_and_sends_are_limited(
    client: httpx.AsyncClient,
) -> None:
    email, _, _, _ = await enrolled(client)
    mfa_token = (await login(client, email))["mfa_token"]
    body = {"mfa_token": mfa_token, "channel": "sms"}
    no_phone = await client.post(f"{API}/mfa/send-code", json=body)
    assert no_phone.status_code == 409
    statuses = [
        (await client.post(f"{API}/mfa/send-code", json={**body, "channel": "email"})).status_code
        for _ in range(4)
    ]
    assert statuses[-1] == 429 and 202 in statuses
    forged = await client.post(
        f"{API}/mfa/send-code", json={"mfa_token": "not-a-token", "channel": "email"}
    )
    assert forged.status_code == 401
