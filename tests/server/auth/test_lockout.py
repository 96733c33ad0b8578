"""A stranger cannot lock the owner out; guessing from one client is still stopped.

Known devices (a device cookie from an earlier complete sign-in) have their own window; unknown
clients are limited per address and wait exponentially growing delays after the account's
recent failures; X-Forwarded-For is believed only from trusted proxies.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import httpx
import time_machine

from server.auth.throttle import DEVICE_COOKIE
from tests.server.auth.conftest import (
    API,
    PASSWORD,
    AppFactory,
    ClientFactory,
    login,
    new_email,
    register,
)
from tests.server.auth.test_mfa import enrolled, verify

WRONG = "not the password at all"


async def attempt(
    client: httpx.AsyncClient, email: str, password: str = WRONG, **headers: str
) -> httpx.Response:
    return await client.post(
        f"{API}/login", json={"email": email, "password": password}, headers=headers
    )


def assert_delayed_after_five(statuses: list[int]) -> None:
    """Five free failures, then waits (how many depends on how fast the attempts came)."""
    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429
    assert set(statuses) == {401, 429}


async def owner_with_own_client(
    app: object, client_for: ClientFactory
) -> tuple[str, httpx.AsyncClient]:
    """An account whose owner signed in once from their own client (which now holds a cookie)."""
    own = await client_for(app, "10.20.0.1")
    email = new_email("owner")
    await register(own, email)
    await login(own, email)
    assert own.cookies.get(DEVICE_COOKIE)
    return email, own


async def test_wrong_passwords_from_forged_addresses_do_not_lock_the_owner_out(
    make_app: AppFactory, client_for: ClientFactory
) -> None:
    app, _ = await make_app()
    email, own = await owner_with_own_client(app, client_for)
    stranger = await client_for(app, "10.66.0.1")
    statuses = [
        (await attempt(stranger, email, **{"X-Forwarded-For": f"198.51.100.{i}"})).status_code
        for i in range(10)
    ]
    # Five failures, then the account makes unknown clients wait; never a success.
    assert_delayed_after_five(statuses)
    assert (await attempt(own, email, PASSWORD)).status_code == 200


async def test_wrong_passwords_from_many_real_addresses_do_not_lock_the_owner_out(
    make_app: AppFactory, client_for: ClientFactory
) -> None:
    app, settings = await make_app()
    email, own = await owner_with_own_client(app, client_for)
    statuses = []
    for i in range(10):
        stranger = await client_for(app, f"10.67.0.{i}")
        statuses.append((await attempt(stranger, email)).status_code)
    assert_delayed_after_five(statuses)
    assert (await attempt(own, email, PASSWORD)).status_code == 200
    # The owner on a new client waits a delay, not a lockout: a second or so here.
    fresh = await attempt(await client_for(app, "10.20.0.2"), email, PASSWORD)
    assert fresh.status_code == 429
    assert 1 <= int(fresh.headers["retry-after"]) <= 2 ** (10 - settings.login_lockout_after)


async def test_wrong_mfa_codes_from_many_addresses_do_not_lock_the_owner_out(
    make_app: AppFactory, client_for: ClientFactory
) -> None:
    app, _ = await make_app()
    own = await client_for(app, "10.21.0.1")
    email, _, _, recovery_codes = await enrolled(own)  # signed in there before MFA was on
    statuses = []
    for i in range(10):
        # A stranger who knows the password guesses the second factor from address after address.
        stranger = await client_for(app, f"10.68.0.{i}")
        challenge = await login(stranger, email)
        statuses.append((await verify(stranger, challenge["mfa_token"], "000000")).status_code)
    assert_delayed_after_five(statuses)
    challenge = await login(own, email)
    signed_in = await verify(own, challenge["mfa_token"], recovery_codes[0])
    assert signed_in.status_code == 200, signed_in.text


async def test_guessing_from_one_client_still_gets_429_with_retry_after(
    make_app: AppFactory, client_for: ClientFactory
) -> None:
    app, _ = await make_app(login_rate_limit="3/minute")
    email, own = await owner_with_own_client(app, client_for)
    guesser = await client_for(app, "10.69.0.1")
    # One address guessing other accounts' passwords is stopped by its own window.
    statuses = [(await attempt(guesser, new_email())).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    refused = await attempt(guesser, email, PASSWORD)
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    # A known device guessing is limited on its own window too (a stolen cookie buys little).
    responses = [await attempt(own, email) for _ in range(4)]
    assert [r.status_code for r in responses] == [401, 401, 401, 429]
    assert 1 <= int(responses[-1].headers["retry-after"]) <= 60


async def test_delays_for_unknown_clients_double_with_each_failure(
    make_app: AppFactory, client_for: ClientFactory
) -> None:
    # In-memory limits (no Redis), so moving the clock moves their windows.
    app, _ = await make_app(login_lockout_after=2, login_rate_limit="100/minute")
    email, own = await owner_with_own_client(app, client_for)
    stranger = await client_for(app, "10.70.0.1")
    assert [(await attempt(stranger, email)).status_code for _ in range(2)] == [401, 401]
    waits = []
    with time_machine.travel(datetime.now(UTC), tick=True) as traveller:
        for _ in range(4):
            refused = await attempt(stranger, email)
            assert refused.status_code == 429
            wait = int(refused.headers["retry-after"])
            waits.append(wait)
            traveller.shift(wait + 0.5)
            assert (await attempt(stranger, email)).status_code == 401
    assert waits == [1, 2, 4, 8]
    assert (await attempt(own, email, PASSWORD)).status_code == 200


async def test_forged_x_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(
    make_app: AppFactory, client_for: ClientFactory, db: asyncpg.Connection
) -> None:
    plain, _ = await make_app(login_rate_limit="2/minute")
    proxied, _ = await make_app(login_rate_limit="2/minute", trusted_proxies=["10.40.0.0/24"])

    async def rotating(app: object, peer: str) -> list[int]:
        client = await client_for(app, peer)
        forged = [f"198.51.100.{i}" for i in range(3)]
        return [
            (await attempt(client, new_email(), **{"X-Forwarded-For": ip})).status_code
            for ip in forged
        ]

    # Not believed: all three attempts are the peer's, whose window holds two.
    assert await rotating(plain, "10.40.0.1") == [401, 401, 429]
    assert await rotating(proxied, "10.41.0.1") == [401, 401, 429]
    # From a trusted proxy each named client has its own window.
    assert await rotating(proxied, "10.40.0.1") == [401, 401, 401]

    # The session records the same address the limits used.
    email = new_email()
    await register(await client_for(plain), email)
    for app, peer in ((plain, "10.40.0.2"), (proxied, "10.41.0.2"), (proxied, "10.40.0.2")):
        response = await attempt(
            await client_for(app, peer), email, PASSWORD, **{"X-Forwarded-For": "203.0.113.9"}
        )
        assert response.status_code == 200
    recorded = await db.fetch("SELECT ip_address FROM auth.sessions ORDER BY created_at")
    assert [r["ip_address"] for r in recorded] == ["10.40.0.2", "10.41.0.2", "203.0.113.9"]
