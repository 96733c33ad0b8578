"""Who looks after a patient (the proxy links of issue #24), as FHIR RelatedPerson reads them.

A proxy sees their own links, revoked ones included. The patient themself, a doctor treating
them and an admin (with a recent step-up) see every link of the patient, as they may read the
profile (server.patients.access). Anyone else, another proxy of the same relative included,
gets 404 as for a record that does not exist; the refusal is audited.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import asyncpg
from starlette.requests import HTTPConnection

from server.audit.service import record_access
from server.auth.principal import Principal
from server.errors import NO_SUCH_PATIENT, Forbidden
from server.patients import access
from server.patients.errors import NO_SUCH_RELATIVE, PatientNotFound
from storage import relatives as store

_Refusal = TypeVar("_Refusal", PatientNotFound, Forbidden)
# Relations that see every link of the patient (a proxy sees their own only).
OVERSEERS: frozenset[access.Relation] = frozenset({"self", "doctor", "admin"})


@dataclass(frozen=True)
class ProxyLink:
    """`relationship`: what the relative is to the proxy (v3-RoleCode, migration 0023);
    `proxy_name`: (first, last), None once the proxy's profile is erased."""

    id: uuid.UUID
    proxy_user_id: uuid.UUID
    relative_id: uuid.UUID
    relationship: str
    linked_at: datetime
    revoked_at: datetime | None
    proxy_name: tuple[str, str] | None


def _link(row: asyncpg.Record) -> ProxyLink:
    named = row["first_name"] is not None
    return ProxyLink(
        id=row["id"],
        proxy_user_id=row["proxy_user_id"],
        relative_id=row["relative_id"],
        relationship=row["relationship"],
        linked_at=row["created_at"],
        revoked_at=row["revoked_at"],
        proxy_name=(row["first_name"], row["last_name"]) if named else None,
    )


async def _oversees(con: asyncpg.Connection, principal: Principal, relative_id: uuid.UUID) -> bool:
    try:
        grant = await access.resolve(con, principal, relative_id, "profile.read")
    except PatientNotFound:
        return False
    return grant.relation in OVERSEERS


async def _refuse(
    pool: asyncpg.Pool,
    principal: Principal,
    resource_id: uuid.UUID,
    request: HTTPConnection,
    error: _Refusal,
) -> _Refusal:
    await record_access(
        pool,
        principal=principal,
        action="related_person.read",
        resource_type="related_person",
        resource_id=resource_id,
        status=error.status,
        request=request,
    )
    return error


async def get_link(
    pool: asyncpg.Pool, principal: Principal, link_id: uuid.UUID, request: HTTPConnection
) -> ProxyLink:
    """One link; PatientNotFound (no-such-relative) when the caller may not see it, Forbidden
    (step-up-required) for an admin without a recent step-up; both audited."""
    try:
        async with pool.acquire() as con:
            row = await store.related_link(con, link_id)
            if row is not None and (
                row["proxy_user_id"] == principal.user_id
                or await _oversees(con, principal, row["relative_id"])
            ):
                return _link(row)
    except Forbidden as refused:
        raise await _refuse(pool, principal, link_id, request, refused) from None
    raise await _refuse(pool, principal, link_id, request, PatientNotFound(NO_SUCH_RELATIVE))


async def links_of(
    pool: asyncpg.Pool, principal: Principal, relative_id: uuid.UUID, request: HTTPConnection
) -> list[ProxyLink]:
    """The patient's links the caller may see, oldest first; PatientNotFound (audited) when
    they may see none (a patient with no proxy answers [] to those who see them all); Forbidden
    (audited) for an admin without a recent step-up."""
    try:
        async with pool.acquire() as con:
            rows = await store.links_of_relative(con, relative_id)
            if await _oversees(con, principal, relative_id):
                return [_link(r) for r in rows]
    except Forbidden as refused:
        raise await _refuse(pool, principal, relative_id, request, refused) from None
    own = [_link(r) for r in rows if r["proxy_user_id"] == principal.user_id]
    if own:
        return own
    raise await _refuse(pool, principal, relative_id, request, PatientNotFound(NO_SUCH_PATIENT))
