"""Password hashing (argon2id) and the password policy.

Hashing runs in a worker thread: argon2 is deliberately slow and would otherwise stall every
other request on the event loop (argon2-cffi releases the GIL while it works).
"""

from __future__ import annotations

import asyncio
import functools
import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.auth.errors import (
    PASSWORD_HAS_EMAIL,
    PASSWORD_TOO_COMMON,
    PASSWORD_TOO_LONG,
    PASSWORD_TOO_SHORT,
    PASSWORD_TOO_SIMPLE,
)

# OWASP's recommended argon2id floor (19 MiB, 2 passes, 1 lane): ~30 ms here. argon2-cffi's
# default profile (64 MiB, 3 passes, 4 lanes) costs ~250 ms on our 2-core nodes, which would cap
# a node at a handful of sign-ins per second. Old hashes are upgraded at sign-in (needs_rehash).
HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)

PASSWORD_MIN_LENGTH = 10
# Long enough for any passphrase, short enough that nobody makes us hash megabytes.
PASSWORD_MAX_LENGTH = 128
MIN_DISTINCT_CHARS = 5

# The most common passwords of at least 10 characters (public breach corpora); a full breached-
# password check would need a download we cannot do offline.
COMMON_PASSWORDS = frozenset(
    {
        "1234567890",
        "0123456789",
        "1q2w3e4r5t",
        "qwertyuiop",
        "password123",
        "password1234",
        "iloveyou123",
        "qwerty1234",
        "1qaz2wsx3edc",
        "abcdefghij",
        "letmein1234",
        "passw0rd123",
        "administrator",
        "welcome123",
        "markini123",
    }
)


def password_errors(
    password: str, email: str | None = None, field: str = "password"
) -> list[dict[str, Any]]:
    """Policy violations as problem field errors (empty when the password is acceptable)."""
    problems: list[dict[str, Any]] = []
    if len(password) < PASSWORD_MIN_LENGTH:
        problems.append(PASSWORD_TOO_SHORT.at(field, min_length=PASSWORD_MIN_LENGTH))
    if len(password) > PASSWORD_MAX_LENGTH:
        problems.append(PASSWORD_TOO_LONG.at(field, max_length=PASSWORD_MAX_LENGTH))
    if len(set(password)) < MIN_DISTINCT_CHARS:
        problems.append(PASSWORD_TOO_SIMPLE.at(field))
    if password.lower() in COMMON_PASSWORDS:
        problems.append(PASSWORD_TOO_COMMON.at(field))
    local_part = email.split("@", 1)[0].lower() if email else ""
    if len(local_part) >= 4 and local_part in password.lower():
        problems.append(PASSWORD_HAS_EMAIL.at(field))
    return problems


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(HASHER.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; no hash (unknown email) still costs one verification."""
    matched = await asyncio.to_thread(_verify, password_hash or _dummy_hash(), password)
    return matched and password_hash is not None


@functools.cache
def _dummy_hash() -> str:
    # A hash of a random secret, verified when the email is unknown so both answers cost the same.
    return HASHER.hash(secrets.token_urlsafe(32))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return False
