"""Admin accounts come only from the CLI; demo accounts are seeded idempotently."""

from __future__ import annotations

import argparse
import asyncio

import asyncpg
import httpx
import pytest

from server.auth.demo import DEMO_PASSWORD, DEMO_USERS, seed_users
from server.cli import build_parser, cmd_create_admin, engines_only
from server.settings import Settings
from tests.server.auth.conftest import PASSWORD, bearer, login, new_email, signed_up


async def create_admin(settings: Settings, email: str, password: str) -> None:
    # The command runs its own event loop, as it does from a shell.
    args = argparse.Namespace(email=email, password=password)
    await asyncio.to_thread(cmd_create_admin, settings, args)


async def test_cli_creates_an_admin_who_passes_admin_checks(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    args = build_parser().parse_args(
        ["create-admin", "--email", "x@example.test", "--password", "p"]
    )
    assert args.func is cmd_create_admin

    email = new_email("admin")
    await create_admin(settings, email.upper(), PASSWORD)
    tokens = await login(client, email)
    assert tokens["user"]["role"] == "admin" and tokens["user"]["is_verified"] is True
    # require_role("admin") on a real admin route (the audit log) tells the roles apart; the
    # trail also needs the password re-entered (step-up) in the last 5 minutes.
    stale = await client.get("/api/v1/admin/audit", headers=bearer(tokens))
    assert stale.status_code == 403
    assert stale.json()["type"] == "/problems/step-up-required"
    wrong = {"password": PASSWORD + "x"}
    step_up = "/api/v1/admin/step-up"
    assert (await client.post(step_up, json=wrong, headers=bearer(tokens))).status_code == 401
    granted = await client.post(step_up, json={"password": PASSWORD}, headers=bearer(tokens))
    assert granted.status_code == 200, granted.text
    assert (await client.get("/api/v1/admin/audit", headers=bearer(tokens))).status_code == 200
    _, patient = await signed_up(client)
    refused = await client.get("/api/v1/admin/audit", headers=bearer(patient))
    assert refused.status_code == 403
    assert refused.json()["type"] == "/problems/forbidden"


async def test_cli_refuses_duplicates_and_weak_passwords(
    db: asyncpg.Connection, settings: Settings
) -> None:
    email = new_email("admin")
    await create_admin(settings, email, PASSWORD)
    for bad_email, password in ((email, PASSWORD), (new_email(), "short"), ("nope", PASSWORD)):
        with pytest.raises(SystemExit) as exited:
            await create_admin(settings, bad_email, password)
        assert exited.value.code == 1
    assert await db.fetchval("SELECT count(*) FROM auth.users") == 1


async def test_demo_users_are_seeded_once_and_can_sign_in(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    async with engines_only(settings) as engines:
        await seed_users(engines)
        await seed_users(engines)
    rows = await db.fetch("SELECT email, role, is_verified FROM auth.users ORDER BY email")
    assert sorted((r["email"], r["role"]) for r in rows) == sorted(DEMO_USERS)
    assert all(r["is_verified"] for r in rows)
    assert await db.fetchval("SELECT count(*) FROM patients.patients") == 1
    for email, role in DEMO_USERS:
        tokens = await login(client, email, DEMO_PASSWORD)
        assert tokens["user"]["role"] == role
