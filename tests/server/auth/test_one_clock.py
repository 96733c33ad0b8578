"""Accounts, sessions, password resets and MFA store the app clock's instant, not the database's."""

from __future__ import annotations

import asyncpg
import httpx
import pyotp

from server.settings import Settings
from tests.far_clock import far_clock
from tests.server.auth.conftest import API, bearer, signed_up
from tests.server.auth.test_password_reset import forgot, reset, reset_token_from_email


async def test_sign_up_sign_in_and_logout_are_stamped_by_the_app_clock(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    with far_clock() as now:
        email, tokens = await signed_up(client)
        assert (await client.post(f"{API}/logout", headers=bearer(tokens))).status_code == 204
    user = await db.fetchrow(
        "SELECT id, created_at, updated_at FROM auth.users WHERE email = $1", email
    )
    assert (user["created_at"], user["updated_at"]) == (now, now)
    session = await db.fetchrow(
        "SELECT created_at, revoked_at FROM auth.sessions WHERE user_id = $1", user["id"]
    )
    assert (session["created_at"], session["revoked_at"]) == (now, now)
    issued = await db.fetchval(
        """SELECT array_agg(DISTINCT t.issued_at) FROM auth.refresh_tokens t
           JOIN auth.sessions s ON s.id = t.session_id WHERE s.user_id = $1""",
        user["id"],
    )
    assert issued == [now]
    patient = await db.fetchrow(
        "SELECT created_at, updated_at FROM patients.patients WHERE user_id = $1", user["id"]
    )
    assert (patient["created_at"], patient["updated_at"]) == (now, now)


async def test_a_used_reset_link_and_its_emails_carry_the_app_clock(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    with far_clock() as now:
        email, _ = await signed_up(client)
        assert (await forgot(client, email)).status_code == 202
        token = await reset_token_from_email(db, settings, email)
        assert (await reset(client, token)).status_code == 204
    reset_row = await db.fetchrow("SELECT created_at, used_at FROM auth.password_resets")
    assert (reset_row["created_at"], reset_row["used_at"]) == (now, now)
    queued = await db.fetch(
        "SELECT template, created_at FROM notify.outbox WHERE recipient = $1", email
    )
    assert {r["template"]: r["created_at"] for r in queued} == {
        "password-reset": now,
        "password-changed": now,
    }
    revoked = await db.fetch(
        """SELECT s.revoked_at FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id
           WHERE u.email = $1""",
        email,
    )
    assert [r["revoked_at"] for r in revoked] == [now]
    assert await db.fetchval("SELECT updated_at FROM auth.users WHERE email = $1", email) == now


async def test_mfa_enrolment_and_confirmation_carry_the_app_clock(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    with far_clock() as now:
        email, tokens = await signed_up(client)
        secret = (await client.post(f"{API}/mfa/enroll", headers=bearer(tokens))).json()["secret"]
        code = pyotp.TOTP(secret).at(now)
        confirm = await client.post(
            f"{API}/mfa/confirm", json={"code": code}, headers=bearer(tokens)
        )
        assert confirm.status_code == 200, confirm.text
    stored = await db.fetchrow("SELECT created_at, confirmed_at FROM auth.mfa_secrets")
    assert (stored["created_at"], stored["confirmed_at"]) == (now, now)
    assert await db.fetchval("SELECT updated_at FROM auth.users WHERE email = $1", email) == now
