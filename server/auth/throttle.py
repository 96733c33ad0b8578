"""Sign-in throttling that a stranger cannot turn against the owner (OWASP ASVS V2.2, the OWASP
Authentication cheat sheet, and OWASP's "Slow Down Online Guessing Attacks with Device Cookies").

Each attempt (password, or the MFA code of the second step) comes from a client that is either
*known* to the account, holding a device cookie issued to it by an earlier complete sign-in, or
*unknown*:

- a known device is limited on its own window (account + device); failures elsewhere never
  lock it, so the owner signs in from their own browser whatever an attacker does;
- an unknown client is limited per address (every account it tries, so also per account and
  address; the address is the peer's, or the client a trusted proxy names: MARKINI_TRUSTED_PROXIES),
  and shares one account-wide counter of failures: past `login_lockout_after` failures, unknown
  clients wait 1 s, then 2, 4, ... up to `login_lockout_max_s` after each further failure
  (exponential delays, never a hard lockout), answered 429 with Retry-After.
"""

from __future__ import annotations

import logging
import math
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

import jwt
from fastapi import Response

from server import clock
from server.auth.principal import JWT_ALGORITHM
from server.auth.ratelimit import enforce, hashed
from server.engines import Engines
from server.errors import TOO_MANY_ATTEMPTS, RateLimited
from server.settings import Settings

log = logging.getLogger(__name__)

DEVICE_COOKIE = "markini_device"
DEVICE_AUDIENCE = "markini:device"
DEVICE_TTL_S = 365 * 24 * 3600
# Only the sign-in routes read it.
DEVICE_COOKIE_PATH = "/api/v1/auth"


@dataclass(frozen=True)
class Attempt:
    action: str  # "login" (the password) or "mfa" (the code of the second step)
    account: str  # the email tried, or the user id of the second step
    ip: str
    device: str | None  # the id of a device cookie issued to this account, if presented


def issue_device_cookie(settings: Settings, user_id: uuid.UUID) -> str:
    now = clock.now()
    claims = {
        "sub": str(user_id),
        "aud": DEVICE_AUDIENCE,
        "jti": secrets.token_hex(16),
        "iat": now,
        "exp": now + timedelta(seconds=DEVICE_TTL_S),
    }
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=JWT_ALGORITHM)


def known_device(settings: Settings, cookie: str | None, user_id: uuid.UUID | None) -> str | None:
    """The device id of `cookie` if it was issued to `user_id` (signed, unexpired), else None."""
    if not cookie or user_id is None:
        return None
    try:
        claims = jwt.decode(
            cookie,
            settings.jwt_secret.get_secret_value(),
            algorithms=[JWT_ALGORITHM],
            audience=DEVICE_AUDIENCE,
            options={"require": ["exp", "sub", "jti"]},
        )
    except jwt.PyJWTError:
        return None
    if claims["sub"] != str(user_id):
        return None
    device: str = claims["jti"]
    return device


def set_device_cookie(response: Response, settings: Settings, user_id: uuid.UUID) -> None:
    """After a complete sign-in: this client is now known to the account."""
    response.set_cookie(
        DEVICE_COOKIE,
        issue_device_cookie(settings, user_id),
        max_age=DEVICE_TTL_S,
        path=DEVICE_COOKIE_PATH,
        secure=settings.public_url.startswith("https:"),
        httponly=True,
        samesite="strict",
    )


def lockout_s(settings: Settings, failures: int) -> int:
    """How long unknown clients wait after the account's `failures`-th recent failure."""
    extra = failures - settings.login_lockout_after
    if extra < 0:
        return 0
    return int(min(2 ** min(extra, 32), settings.login_lockout_max_s))


def _failures_key(attempt: Attempt) -> str:
    return f"auth/failures/{attempt.action}/{hashed(attempt.account)}"


def _lock_key(attempt: Attempt, failures: int) -> str:
    # One key per failure count: its expiry is that failure's delay.
    return f"auth/lock/{attempt.action}/{hashed(attempt.account)}/{failures}"


async def before_attempt(engines: Engines, attempt: Attempt) -> None:
    """Refuse (429 with Retry-After) an attempt that must wait; count it otherwise."""
    spec = engines.settings.login_rate_limit
    if attempt.device is not None:
        await enforce(engines.limiter, spec, attempt.action, {"device": attempt.device})
        return
    limiter = engines.limiter
    failures = await limiter.get(_failures_key(attempt))
    if lockout_s(engines.settings, failures):
        lock = _lock_key(attempt, failures)
        if await limiter.get(lock) > 0:
            retry_after = max(1, math.ceil(await limiter.get_expiry(lock) - time.time()))
            log.warning("sign-in delayed", extra={"action": attempt.action})
            raise RateLimited(TOO_MANY_ATTEMPTS, retry_after=retry_after)
    await enforce(limiter, spec, attempt.action, {"ip": attempt.ip})


async def failed(engines: Engines, attempt: Attempt) -> None:
    """Count a wrong password or code from an unknown client against the account."""
    if attempt.device is not None:
        return
    settings = engines.settings
    failures = await engines.limiter.incr(_failures_key(attempt), settings.login_failure_window_s)
    delay = lockout_s(settings, failures)
    if delay:
        await engines.limiter.incr(_lock_key(attempt, failures), delay)
