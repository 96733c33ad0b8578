"""Patient profiles: creation, reads and edits under server.patients.access, GDPR erasure."""

from __future__ import annotations

import logging
import uuid
from typing import cast

import asyncpg
from starlette.requests import HTTPConnection

from bus.events import PATIENT_CREATED, PATIENT_DELETED, PATIENT_UPDATED
from server import clock
from server.audit.service import record_change
from server.auth import service as auth_service
from server.auth.principal import Principal
from server.patients import access, relatives
from server.patients.errors import NO_PROFILE_YET, PROFILE_ALREADY, PatientExists, PatientNotFound
from server.patients.events import emit_changed
from server.patients.ports import LiveAccess
from server.patients.schemas import PatientCreate, PatientOut, PatientUpdate
from server.readonly import check_identity
from storage import doctors as doctor_store
from storage import patients as store
from storage.errors import ConstraintViolation

log = logging.getLogger(__name__)


def to_out(row: asyncpg.Record) -> PatientOut:
    return PatientOut.model_validate(dict(row))


async def create_patient(
    pool: asyncpg.Pool, principal: Principal, body: PatientCreate
) -> PatientOut:
    """A second profile for one account is refused (409): sign-up already made a minimal one,
    which the client completes with PUT (GET /api/v1/patients/me gives its id)."""
    fields = body.model_dump(exclude={"user_id"})
    async with pool.acquire() as con, con.transaction():
        owner = await auth_service.profile_owner(con, principal, body.user_id, "patient")
        try:
            patient_id = await store.insert_patient(
                con, owner, cast(store.PatientFields, fields), clock.now()
            )
        except ConstraintViolation as exc:  # the one profile per account
            raise PatientExists(PROFILE_ALREADY) from exc
        await emit_changed(con, PATIENT_CREATED, patient_id, actor=str(principal.user_id))
        row = await store.get_patient(con, patient_id)
        await record_change(con, resource_id=patient_id)
    assert row is not None
    log.info("patient created", extra={"patient_id": str(patient_id)})
    return to_out(row)


async def get_own_patient(pool: asyncpg.Pool, principal: Principal) -> PatientOut:
    async with pool.acquire() as con:
        patient_id = await store.patient_id_for_user(con, principal.user_id)
        row = await store.get_patient(con, patient_id) if patient_id else None
    if row is None:
        raise PatientNotFound(NO_PROFILE_YET)
    return to_out(row)


async def get_patient(
    pool: asyncpg.Pool, principal: Principal, patient_id: uuid.UUID, request: HTTPConnection
) -> PatientOut:
    async with access.granted(pool, principal, patient_id, "profile.read", request) as (_, grant):
        patient = grant.patient
    return to_out(patient)


async def update_patient(
    pool: asyncpg.Pool,
    principal: Principal,
    patient_id: uuid.UUID,
    body: PatientUpdate,
    request: HTTPConnection,
) -> PatientOut:
    changes = body.changes()
    async with access.granted(
        pool, principal, patient_id, "profile.update", request, for_update=True
    ) as (con, grant):
        check_identity(body, grant.patient)
        current = {key: grant.patient[key] for key in store.PatientFields.__annotations__}
        fields = cast(store.PatientFields, current | changes)
        await store.update_patient(con, patient_id, fields, clock.now())
        await emit_changed(con, PATIENT_UPDATED, patient_id, actor=str(principal.user_id))
        row = await store.get_patient(con, patient_id)
    assert row is not None
    return to_out(row)


async def erase_patient(
    pool: asyncpg.Pool,
    live: LiveAccess,
    principal: Principal,
    patient_id: uuid.UUID,
    request: HTTPConnection,
) -> None:
    """GDPR erasure, all or nothing in one transaction.

    Identity goes (names become "Erased"; birth date, phone, address, insurance cleared; the
    link to the account cut), the medical history and favorites are deleted, review comments
    blanked, and the account deactivated with every session revoked. The row itself stays, so
    the doctors' appointment records (which point at patient_id) keep their history without
    saying who it was. Every proxy link it ends (the account's relatives, or the relative's
    proxies) ends that proxy's live access to the relative's consultation rooms at once.
    """
    # Always audited, the patient's own request included: erasure is a legal act.
    async with access.granted(
        pool, principal, patient_id, "profile.erase", request, for_update=True, always_audited=True
    ) as (con, grant):
        user_id = grant.patient["user_id"]
        # Nobody manages an erased patient any more (a relative with a login of their own too).
        revoked = await relatives.release_relative(con, principal, patient_id)
        if user_id is not None:
            # Relatives this account managed: links revoked, those nobody else looks after erased.
            revoked += await relatives.release_all(con, principal, user_id)
        await store.erase_patient(con, patient_id, clock.now())
        await doctor_store.clear_review_comments(con, patient_id)
        if user_id is not None:
            await auth_service.erase_account(con, user_id)
        await emit_changed(con, PATIENT_DELETED, patient_id, actor=str(principal.user_id))
    await live.end_access(revoked)  # after the commit: never before
    log.info("patient erased", extra={"patient_id": str(patient_id)})
