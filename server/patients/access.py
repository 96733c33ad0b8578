"""Who may do what with a patient's record, and the audit trail of every access to it.

Relations to a patient record:
- self: the patient's own account: everything.
- doctor: a doctor with an appointment with the patient (scheduled, confirmed, completed or
  no-show; see storage.patients.doctor_treats_patient): reads the profile, reads and adds to the
  medical history. Never edits the profile, erases it or sees favorites.
- admin: reads and edits the profile, reads the history and favorites, erases (GDPR requests).
  Admins never write medical history (they are not clinicians).
- proxy: an account managing this relative (patients.relatives, issue #24): reads and edits the
  profile and favorites; the medical history only when the link has can_view_history
  ("proxy_history"), else 403 history-not-shared. Erasure goes through /api/v1/me/relatives.
Anyone else gets 404, exactly as for a patient that does not exist (existence is not leaked);
a caller who may see the record but not do this action with it gets 403.

Every access by someone other than the patient, and every touch of the medical history (the
patient's own included), is recorded with `server.audit.service.record_access`; every refused
attempt is recorded too, with its status (403 or 404).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

import asyncpg
from starlette.requests import HTTPConnection

from server.audit.service import record_access, record_change
from server.auth.administration import ensure_recent_step_up
from server.auth.principal import Principal
from server.errors import NO_SUCH_PATIENT, Forbidden
from server.patients.errors import HISTORY_NOT_SHARED, RECORD_NOT_ALLOWED, PatientNotFound
from storage import patients as store
from storage import relatives as relatives_store

Action = Literal[
    "profile.read",
    "profile.update",
    "profile.erase",
    "history.read",
    "history.write",
    "favorites.read",
    "favorites.write",
]
Relation = Literal["self", "doctor", "admin", "proxy", "proxy_history"]

ALLOWED: dict[Relation, frozenset[Action]] = {
    "self": frozenset(
        {
            "profile.read",
            "profile.update",
            "profile.erase",
            "history.read",
            "history.write",
            "favorites.read",
            "favorites.write",
        }
    ),
    "doctor": frozenset({"profile.read", "history.read", "history.write"}),
    "admin": frozenset(
        {"profile.read", "profile.update", "profile.erase", "history.read", "favorites.read"}
    ),
    "proxy": frozenset({"profile.read", "profile.update", "favorites.read", "favorites.write"}),
    "proxy_history": frozenset(
        {
            "profile.read",
            "profile.update",
            "favorites.read",
            "favorites.write",
            "history.read",
            "history.write",
        }
    ),
}

# Audit action names ("<resource>.<verb>", as the audit service asks).
AUDIT_NAMES: dict[Action, tuple[str, str]] = {
    "profile.read": ("patient_profile.read", "patient"),
    "profile.update": ("patient_profile.update", "patient"),
    "profile.erase": ("patient_profile.erase", "patient"),
    "history.read": ("medical_history.read", "medical_history"),
    "history.write": ("medical_history.create", "medical_history"),
    "favorites.read": ("favorites.read", "patient"),
    "favorites.write": ("favorites.update", "patient"),
}


@dataclass(frozen=True)
class PatientAccess:
    patient: asyncpg.Record
    relation: Relation
    action: Action

    @property
    def patient_id(self) -> uuid.UUID:
        value: uuid.UUID = self.patient["id"]
        return value

    @property
    def audited(self) -> bool:
        return self.relation != "self" or self.action.startswith("history.")


async def _relation(
    con: asyncpg.Connection, principal: Principal, patient: asyncpg.Record
) -> Relation | None:
    if patient["user_id"] == principal.user_id:
        return "self"
    if principal.is_admin:
        return "admin"
    if principal.role == "doctor" and await store.doctor_treats_patient(
        con, principal.user_id, patient["id"]
    ):
        return "doctor"
    if principal.role == "patient":
        link = await relatives_store.active_link(con, principal.user_id, patient["id"])
        if link is not None:
            return "proxy_history" if link["can_view_history"] else "proxy"
    return None


async def resolve(
    con: asyncpg.Connection,
    principal: Principal,
    patient_id: uuid.UUID,
    action: Action,
    *,
    for_update: bool = False,
) -> PatientAccess:
    patient = await store.get_patient(con, patient_id, for_update=for_update)
    relation = await _relation(con, principal, patient) if patient is not None else None
    if patient is None or relation is None:
        raise PatientNotFound(NO_SUCH_PATIENT)
    if action not in ALLOWED[relation]:
        if relation == "proxy" and action.startswith("history."):
            raise Forbidden(HISTORY_NOT_SHARED)
        raise Forbidden(RECORD_NOT_ALLOWED)
    if relation == "admin":
        # Admins reach health data only with their password re-entered in the last 5 minutes.
        await ensure_recent_step_up(con, principal)
    return PatientAccess(patient, relation, action)


async def record(
    con_or_pool: asyncpg.Connection | asyncpg.Pool,
    principal: Principal,
    action: Action,
    patient_id: uuid.UUID,
    request: HTTPConnection | None,
    status: int = 200,
) -> None:
    name, resource_type = AUDIT_NAMES[action]
    await record_access(
        con_or_pool,
        principal=principal,
        action=name,
        resource_type=resource_type,
        resource_id=patient_id,
        status=status,
        request=request,
    )


@asynccontextmanager
async def audit_refusals(
    pool: asyncpg.Pool,
    principal: Principal,
    action: Action,
    patient_id: uuid.UUID,
    request: HTTPConnection | None,
) -> AsyncIterator[None]:
    """Record a refused attempt (after its transaction rolled back) and let the error go on."""
    try:
        yield
    except (PatientNotFound, Forbidden) as exc:
        # Anyone reaching for a record that is not theirs leaves a trace, whatever the outcome.
        await record(pool, principal, action, patient_id, request, status=exc.status)
        raise


@asynccontextmanager
async def granted(
    pool: asyncpg.Pool,
    principal: Principal,
    patient_id: uuid.UUID,
    action: Action,
    request: HTTPConnection | None,
    *,
    for_update: bool = False,
    always_audited: bool = False,
) -> AsyncIterator[tuple[asyncpg.Connection, PatientAccess]]:
    """One transaction doing `action` on the record: access is resolved first (a refusal is
    audited, see audit_refusals) and, when audited, recorded in the same transaction, as is the
    mutating request that made a change (server.audit.service.record_change)."""
    async with audit_refusals(pool, principal, action, patient_id, request):
        async with pool.acquire() as con, con.transaction():
            grant = await resolve(con, principal, patient_id, action, for_update=for_update)
            yield con, grant
            if grant.audited or always_audited:
                await record(con, principal, action, patient_id, request)
            await record_change(con)
