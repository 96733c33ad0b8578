"""Two-factor authentication: enrolment, TOTP sign-in, replay refusal, recovery codes."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import parse_qs, urlparse

import asyncpg
import httpx
import pyotp

from server.crypto import FieldCipher
from server.settings import Settings
from tests.server.auth.conftest import API, bearer, login, signed_up, snapshot

STEP = 30


def code_at(secret: str, offset_steps: int) -> str:
    """The TOTP `offset_steps` steps from now (the server accepts -1, 0 and +1)."""
    return str(pyotp.TOTP(secret).at(time.time() + offset_steps * STEP))


async def enrolled(client: httpx.AsyncClient) -> tuple[str, dict[str, Any], str, list[str]]:
    """A signed-in patient with MFA on: (email, tokens, secret, recovery codes)."""
    email, tokens = await signed_up(client)
    enrolment = await client.post(f"{API}/mfa/enroll", headers=bearer(tokens))
    assert enrolment.status_code == 200
    secret = enrolment.json()["secret"]
    # The previous step: leaves the current and next steps for the sign-ins that follow.
    confirm = await client.post(
        f"{API}/mfa/confirm", json={"code": code_at(secret, -1)}, headers=bearer(tokens)
    )
    assert confirm.status_code == 200, confirm.text
    return email, tokens, secret, confirm.json()["recovery_codes"]


async def verify(client: httpx.AsyncClient, mfa_token: str, code: str) -> httpx.Response:
    return await client.post(f"{API}/verify-mfa", json={"mfa_token": mfa_token, "code": code})


async def test_enrolment_stores_the_secret_encrypted_and_turns_mfa_on(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    email, tokens = await signed_up(client)
    enrolment = (await client.post(f"{API}/mfa/enroll", headers=bearer(tokens))).json()
    uri = urlparse(enrolment["otpauth_uri"])
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    assert parse_qs(uri.query)["secret"] == [enrolment["secret"]]
    assert parse_qs(uri.query)["issuer"] == ["Markini"]
    stored = await db.fetchval("SELECT secret FROM auth.mfa_secrets")
    assert set(stored) == {"kid", "nonce", "ct"}
    assert enrolment["secret"] not in str(stored)
    user_id = tokens["user"]["id"]
    aad = f"auth.mfa_secrets:{user_id}".encode()
    assert FieldCipher(settings).decrypt(stored, aad) == enrolment["secret"]
    # Not on until confirmed.
    assert (await login(client, email)).get("mfa_required") is None

    wrong = await client.post(f"{API}/mfa/confirm", json={"code": "000000"}, headers=bearer(tokens))
    assert wrong.status_code == 401
    confirm = await client.post(
        f"{API}/mfa/confirm", json={"code": code_at(enrolment["secret"], 0)}, headers=bearer(tokens)
    )
    codes = confirm.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    me = await client.get(f"{API}/me", headers=bearer(tokens))
    assert me.json()["mfa_enabled"] is True
    again = await client.post(f"{API}/mfa/enroll", headers=bearer(tokens))
    assert again.status_code == 409
    assert (
        FieldCipher(settings).decrypt(await db.fetchval("SELECT secret FROM auth.mfa_secrets"), aad)
        == enrolment["secret"]
    )


async def test_sign_in_with_totp_refuses_wrong_and_replayed_codes(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    email, _, secret, _ = await enrolled(client)
    challenge = await login(client, email)
    assert challenge["mfa_required"] is True and "access_token" not in challenge
    mfa_token = challenge["mfa_token"]
    # The MFA token is not an access token.
    assert (
        await client.get(f"{API}/me", headers={"Authorization": f"Bearer {mfa_token}"})
    ).status_code == 401

    before = await snapshot(db)
    good = code_at(secret, 0)
    wrong = str((int(good) + 1) % 1_000_000).zfill(6)
    refused = await verify(client, mfa_token, wrong)
    assert refused.status_code == 401
    assert refused.json()["type"] == "/problems/invalid-mfa-code"
    assert await snapshot(db) == before

    accepted = await verify(client, mfa_token, good)
    assert accepted.status_code == 200
    tokens = accepted.json()
    assert (await client.get(f"{API}/me", headers=bearer(tokens))).status_code == 200
    replayed = await verify(client, (await login(client, email))["mfa_token"], good)
    assert replayed.status_code == 401


async def test_recovery_code_replaces_a_totp_once(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    email, _, _, codes = await enrolled(client)
    mfa_token = (await login(client, email))["mfa_token"]
    used = await verify(client, mfa_token, codes[0].upper())
    assert used.status_code == 200
    assert (await verify(client, mfa_token, codes[0])).status_code == 401
    assert await db.fetchval("SELECT count(*) FROM auth.recovery_codes WHERE used_at IS NULL") == 9


async def test_racing_uses_of_one_recovery_code_succeed_once(client: httpx.AsyncClient) -> None:
    email, _, _, codes = await enrolled(client)
    mfa_token = (await login(client, email))["mfa_token"]
    responses = await asyncio.gather(*(verify(client, mfa_token, codes[1]) for _ in range(4)))
    assert sorted(r.status_code for r in responses) == [200, 401, 401, 401]


async def test_an_mfa_token_opens_one_session_only(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    email, _, secret, codes = await enrolled(client)
    mfa_token = (await login(client, email))["mfa_token"]
    sessions = await db.fetchval("SELECT count(*) FROM auth.sessions")

    assert (await verify(client, mfa_token, code_at(secret, 0))).status_code == 200
    # Another valid factor with the spent token: a TOTP of the next step, a recovery code.
    again = await verify(client, mfa_token, code_at(secret, 1))
    assert again.status_code == 401 and again.json()["code"] == "mfa-step-expired", again.text
    assert (await verify(client, mfa_token, codes[2])).status_code == 401
    assert await db.fetchval("SELECT count(*) FROM auth.sessions") == sessions + 1
    # Refused before any code is checked: the recovery code is still good for a new sign-in.
    assert await db.fetchval("SELECT count(*) FROM auth.recovery_codes WHERE used_at IS NULL") == 10
    fresh = (await login(client, email))["mfa_token"]
    assert (await verify(client, fresh, codes[2])).status_code == 200


async def test_racing_exchanges_of_one_mfa_token_open_one_session(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    email, _, secret, codes = await enrolled(client)
    mfa_token = (await login(client, email))["mfa_token"]
    sessions = await db.fetchval("SELECT count(*) FROM auth.sessions")

    responses = await asyncio.gather(
        verify(client, mfa_token, code_at(secret, 0)),
        verify(client, mfa_token, codes[3]),
        verify(client, mfa_token, codes[4]),
    )

    assert sorted(r.status_code for r in responses) == [200, 401, 401]
    assert await db.fetchval("SELECT count(*) FROM auth.sessions") == sessions + 1


async def test_expired_or_forged_mfa_token_is_refused(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    import jwt

    email, _, secret, _ = await enrolled(client)
    mfa_token = (await login(client, email))["mfa_token"]
    claims = jwt.decode(mfa_token, options={"verify_signature": False})
    expired = jwt.encode(
        {**claims, "exp": int(time.time()) - 5}, settings.jwt_secret.get_secret_value(), "HS256"
    )
    assert (await verify(client, expired, code_at(secret, 0))).status_code == 401
    assert (await verify(client, "garbage", code_at(secret, 0))).status_code == 401


async def test_disabling_mfa_needs_a_code(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    email, tokens, secret, codes = await enrolled(client)
    wrong = await client.post(f"{API}/mfa/disable", json={"code": "123456"}, headers=bearer(tokens))
    assert wrong.status_code == 401
    off = await client.post(f"{API}/mfa/disable", json={"code": codes[2]}, headers=bearer(tokens))
    assert off.status_code == 204
    assert "access_token" in await login(client, email)
    assert await db.fetchval("SELECT count(*) FROM auth.recovery_codes") == 0
    again = await client.post(f"{API}/mfa/disable", json={"code": codes[3]}, headers=bearer(tokens))
    assert again.status_code == 409
