"""Doctor profiles: creation, visibility, edits and admin verification.

Visibility rule: a verified doctor is public; an unverified or rejected one exists only for its
owner and for admins, everyone else gets 404 (not bookable, not searchable, not even confirmed).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

import asyncpg

from bus.events import DOCTOR_CREATED, DOCTOR_UPDATED, DOCTOR_VERIFIED
from server import clock
from server.audit.service import record_change
from server.auth import service as auth_service
from server.auth.principal import Principal
from server.doctors.errors import (
    DOCTOR_PROFILE_ALREADY,
    EDIT_PROFILE,
    LICENSE_IN_USE,
    NO_DOCTOR_PROFILE,
    UNKNOWN_SPECIALIZATION,
    UNKNOWN_SPECIALIZATIONS,
    DoctorNotFound,
    LicenseTaken,
    ProfileExists,
)
from server.doctors.events import emit_changed
from server.doctors.schemas import (
    COORDINATES_PAIR,
    DoctorCreate,
    DoctorOut,
    DoctorUpdate,
    RejectRequest,
    Specialization,
)
from server.errors import FIELDS_INVALID, NO_SUCH_DOCTOR, Forbidden, InvalidInput, NotFound
from server.readonly import check_identity
from storage import doctors as store
from storage.errors import ConstraintViolation

log = logging.getLogger(__name__)


def is_visible(row: asyncpg.Record, principal: Principal | None) -> bool:
    if row["verification_status"] == "verified":
        return True
    return principal is not None and (principal.is_admin or principal.user_id == row["user_id"])


def to_out(row: asyncpg.Record) -> DoctorOut:
    return DoctorOut.model_validate({**dict(row), "rating": float(row["rating"])})


async def _check_specializations(con: asyncpg.Connection, codes: list[str]) -> None:
    unknown = await store.unknown_specializations(con, codes)
    if unknown:
        raise InvalidInput(
            UNKNOWN_SPECIALIZATIONS,
            [UNKNOWN_SPECIALIZATION.at("specializations", code=code) for code in unknown],
        )


async def _visible_row(
    con: asyncpg.Connection, principal: Principal | None, doctor_id: uuid.UUID
) -> asyncpg.Record:
    row = await store.get_doctor(con, doctor_id)
    if row is None or not is_visible(row, principal):
        raise DoctorNotFound(NO_SUCH_DOCTOR)
    return row


async def _locked_row(con: asyncpg.Connection, doctor_id: uuid.UUID) -> asyncpg.Record:
    row = await store.get_doctor(con, doctor_id, for_update=True)
    if row is None:
        raise DoctorNotFound(NO_SUCH_DOCTOR)
    return row


async def _current(con: asyncpg.Connection, doctor_id: uuid.UUID) -> DoctorOut:
    """The doctor as this transaction just left it."""
    row = await store.get_doctor(con, doctor_id)
    assert row is not None
    return to_out(row)


async def list_specializations(pool: asyncpg.Pool) -> list[Specialization]:
    async with pool.acquire() as con:
        rows = await store.list_specializations(con)
    return [Specialization.model_validate(dict(r)) for r in rows]


@contextmanager
def _profile_conflicts() -> Iterator[None]:
    """The schema's unique keys refused a profile: say which, in the domain's words."""
    try:
        yield
    except ConstraintViolation as exc:
        if exc.constraint == store.LICENSE_TAKEN:
            raise LicenseTaken(LICENSE_IN_USE) from exc
        raise ProfileExists(DOCTOR_PROFILE_ALREADY) from exc


async def create_doctor(pool: asyncpg.Pool, principal: Principal, body: DoctorCreate) -> DoctorOut:
    fields = body.model_dump(exclude={"user_id"})
    fields["profile_image_url"] = str(body.profile_image_url) if body.profile_image_url else None
    async with pool.acquire() as con, con.transaction():
        owner = await auth_service.profile_owner(con, principal, body.user_id, "doctor")
        await _check_specializations(con, body.specializations)
        with _profile_conflicts():
            profile = cast(store.DoctorFields, fields)
            inserted = await store.insert_doctor(con, owner, profile, clock.now())
        doctor_id = inserted["id"]
        await emit_changed(con, DOCTOR_CREATED, doctor_id, actor=str(principal.user_id))
        created = await _current(con, doctor_id)
        await record_change(con, resource_id=doctor_id)
    log.info("doctor created", extra={"doctor_id": str(doctor_id)})
    return created


async def get_doctor(
    pool: asyncpg.Pool, principal: Principal | None, doctor_id: uuid.UUID
) -> DoctorOut:
    async with pool.acquire() as con:
        return to_out(await _visible_row(con, principal, doctor_id))


async def get_own_doctor(pool: asyncpg.Pool, principal: Principal) -> DoctorOut:
    async with pool.acquire() as con:
        doctor_id = await store.doctor_id_for_user(con, principal.user_id)
        if doctor_id is None:
            raise NotFound(NO_DOCTOR_PROFILE)
        return to_out(await _visible_row(con, principal, doctor_id))


async def doctor_specializations(
    pool: asyncpg.Pool, principal: Principal | None, doctor_id: uuid.UUID
) -> list[Specialization]:
    async with pool.acquire() as con:
        row = await _visible_row(con, principal, doctor_id)
        rows = await store.specializations_by_code(con, list(row["specializations"]))
    return [Specialization.model_validate(dict(r)) for r in rows]


async def update_doctor(
    pool: asyncpg.Pool, principal: Principal, doctor_id: uuid.UUID, body: DoctorUpdate
) -> DoctorOut:
    changes = body.changes()
    async with pool.acquire() as con, con.transaction():
        row = await store.get_doctor(con, doctor_id, for_update=True)
        if row is None or not is_visible(row, principal):
            raise DoctorNotFound(NO_SUCH_DOCTOR)
        if row["user_id"] != principal.user_id and not principal.is_admin:
            raise Forbidden(EDIT_PROFILE)
        check_identity(body, row)
        merged = {key: row[key] for key in store.DoctorFields.__annotations__} | changes
        merged["specializations"] = list(merged["specializations"])
        merged["languages"] = list(merged["languages"])
        if (merged["latitude"] is None) != (merged["longitude"] is None):
            raise InvalidInput(FIELDS_INVALID, [COORDINATES_PAIR.at("latitude")])
        if "specializations" in changes:
            await _check_specializations(con, merged["specializations"])
        now = clock.now()
        with _profile_conflicts():
            await store.update_doctor(con, doctor_id, cast(store.DoctorFields, merged), now)
        relicensed = merged["license_number"] != row["license_number"]
        if relicensed and not principal.is_admin and row["verification_status"] != "unverified":
            # Verification vouched for the old license: a new one must be checked again.
            await store.set_verification(con, doctor_id, "unverified", None, now)
            await auth_service.set_verified(con, row["user_id"], False, now)
        await emit_changed(con, DOCTOR_UPDATED, doctor_id, actor=str(principal.user_id))
        await record_change(con)
        return await _current(con, doctor_id)


async def verify_doctor(pool: asyncpg.Pool, admin: Principal, doctor_id: uuid.UUID) -> DoctorOut:
    async with pool.acquire() as con, con.transaction():
        row = await _locked_row(con, doctor_id)
        if row["verification_status"] != "verified":
            now = clock.now()
            await store.set_verification(con, doctor_id, "verified", None, now)
            await auth_service.set_verified(con, row["user_id"], True, now)
            await emit_changed(con, DOCTOR_VERIFIED, doctor_id, actor=str(admin.user_id))
            log.info("doctor verified", extra={"doctor_id": str(doctor_id)})
        await record_change(con)
        return await _current(con, doctor_id)


async def reject_doctor(
    pool: asyncpg.Pool, admin: Principal, doctor_id: uuid.UUID, body: RejectRequest
) -> DoctorOut:
    async with pool.acquire() as con, con.transaction():
        row = await _locked_row(con, doctor_id)
        now = clock.now()
        await store.set_verification(con, doctor_id, "rejected", body.reason or None, now)
        await auth_service.set_verified(con, row["user_id"], False, now)
        await emit_changed(con, DOCTOR_UPDATED, doctor_id, actor=str(admin.user_id))
        rejected = await _current(con, doctor_id)
        await record_change(con)
    log.info("doctor rejected", extra={"doctor_id": str(doctor_id)})
    return rejected
