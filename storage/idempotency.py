"""SQL of idempotency keys (schema `api`): claim a key, store or release its answer, sweep.

Every instant is a parameter (the server's one clock); nothing here calls now().
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

import asyncpg

Executor: TypeAlias = asyncpg.Connection | asyncpg.Pool

_COLUMNS = """scope, key, request_method, request_path, request_sha256, lock_id, locked_until,
    response_status, response_headers, response_body, created_at, expires_at"""


@dataclass(frozen=True)
class Claim:
    scope: str
    key: str
    method: str
    path: str
    sha256: bytes
    lock_id: uuid.UUID
    locked_until: datetime
    created_at: datetime
    expires_at: datetime


async def claim_key(con: Executor, claim: Claim) -> bool:
    """Take the key for a request about to run: True when it is ours.

    An expired row counts as absent and is replaced; so is a claim whose holder went silent
    past `locked_until` while running the same request (its node died).
    """
    taken: uuid.UUID | None = await con.fetchval(
        """INSERT INTO api.idempotency_keys AS k
               (scope, key, request_method, request_path, request_sha256, lock_id, locked_until,
                created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (scope, key) DO UPDATE SET
               request_method = EXCLUDED.request_method,
               request_path = EXCLUDED.request_path,
               request_sha256 = EXCLUDED.request_sha256,
               lock_id = EXCLUDED.lock_id,
               locked_until = EXCLUDED.locked_until,
               response_status = NULL,
               response_headers = NULL,
               response_body = NULL,
               created_at = EXCLUDED.created_at,
               expires_at = EXCLUDED.expires_at
           WHERE k.expires_at <= EXCLUDED.created_at
              OR (k.lock_id IS NOT NULL AND k.locked_until <= EXCLUDED.created_at
                  AND k.request_method = EXCLUDED.request_method
                  AND k.request_path = EXCLUDED.request_path
                  AND k.request_sha256 = EXCLUDED.request_sha256)
           RETURNING k.lock_id""",
        claim.scope,
        claim.key,
        claim.method,
        claim.path,
        claim.sha256,
        claim.lock_id,
        claim.locked_until,
        claim.created_at,
        claim.expires_at,
    )
    return taken == claim.lock_id


async def fetch_key(con: Executor, scope: str, key: str, now: datetime) -> asyncpg.Record | None:
    """The live (unexpired) row of a key, or None."""
    row: asyncpg.Record | None = await con.fetchrow(
        f"""SELECT {_COLUMNS} FROM api.idempotency_keys
            WHERE scope = $1 AND key = $2 AND expires_at > $3""",
        scope,
        key,
        now,
    )
    return row


async def store_response(
    con: Executor,
    scope: str,
    key: str,
    lock_id: uuid.UUID,
    status: int,
    headers: dict[str, Any],
    body: Mapping[str, object],
) -> bool:
    """Keep the answer of our claim (`body` as the caller encrypted it); False when the claim
    is no longer ours."""
    done: str | None = await con.fetchval(
        """UPDATE api.idempotency_keys
           SET response_status = $4, response_headers = $5, response_body = $6,
               lock_id = NULL, locked_until = NULL
           WHERE scope = $1 AND key = $2 AND lock_id = $3
           RETURNING key""",
        scope,
        key,
        lock_id,
        status,
        headers,
        body,
    )
    return done is not None


async def release_key(con: Executor, scope: str, key: str, lock_id: uuid.UUID) -> None:
    """Give up our claim (the request failed): a retry with the key runs afresh."""
    await con.execute(
        "DELETE FROM api.idempotency_keys WHERE scope = $1 AND key = $2 AND lock_id = $3",
        scope,
        key,
        lock_id,
    )


async def delete_expired_keys(con: Executor, now: datetime, limit: int) -> int:
    """Delete up to `limit` keys expired at `now`; return how many."""
    deleted: int = await con.fetchval(
        """WITH gone AS (
               DELETE FROM api.idempotency_keys WHERE ctid IN (
                   SELECT ctid FROM api.idempotency_keys WHERE expires_at <= $1 LIMIT $2)
               RETURNING 1)
           SELECT count(*) FROM gone""",
        now,
        limit,
    )
    return deleted
