"""A token is only as good as the session behind it: its session must belong to `sub`, and the
role comes from the account, never from the token (issue #16, forged admin)."""

from __future__ import annotations

import asyncpg
import httpx
import jwt

from server.settings import Settings
from tests.factories import make_user

ME = "/api/v1/auth/me"
AUDIT = "/api/v1/admin/audit"


def resign(settings: Settings, token: str, **changes: str) -> dict[str, str]:
    """A token re-signed with the server's own secret (the worst case: the secret leaked)."""
    secret = settings.jwt_secret.get_secret_value()
    claims = jwt.decode(token, secret, algorithms=["HS256"], audience="markini:access")
    forged = jwt.encode({**claims, **changes}, secret, algorithm="HS256")
    return {"Authorization": f"Bearer {forged}"}


async def test_a_patient_session_re_signed_as_the_admin_is_refused(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    patient = await make_user(db, settings, "patient")
    admin = await make_user(db, settings, "admin")
    forged = resign(settings, patient.token, sub=str(admin.id), role="admin")
    for path in (ME, AUDIT):
        response = await client.get(path, headers=forged)
        assert response.status_code == 401, response.text
        assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get(AUDIT, headers=admin.headers)).status_code == 200


async def test_the_role_comes_from_the_account_not_from_the_token(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    patient = await make_user(db, settings, "patient")
    promoted = resign(settings, patient.token, role="admin")
    me = await client.get(ME, headers=promoted)
    assert me.status_code == 200 and me.json()["role"] == "patient"
    assert (await client.get(AUDIT, headers=promoted)).status_code == 403
    valid = await client.get("/api/v1/auth/validate-token", headers=promoted)
    assert valid.status_code == 200 and valid.json()["role"] == "patient"


async def test_a_deactivated_account_loses_its_live_tokens_at_once(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_user(db, settings, "doctor")
    assert (await client.get(ME, headers=doctor.headers)).status_code == 200
    await db.execute("UPDATE auth.users SET is_active = false WHERE id = $1", doctor.id)
    assert (await client.get(ME, headers=doctor.headers)).status_code == 401
