"""Favorite doctors: a patient's own bookmark list (admins may read it, audited)."""

from __future__ import annotations

import uuid

import asyncpg
from starlette.requests import HTTPConnection

from server import clock
from server.auth.principal import Principal
from server.doctors.errors import DoctorNotFound
from server.errors import NO_SUCH_DOCTOR
from server.patients import access
from server.patients.schemas import FavoriteDoctor
from storage import doctors as doctor_store
from storage import patients as store


async def list_favorites(
    pool: asyncpg.Pool, principal: Principal, patient_id: uuid.UUID, request: HTTPConnection
) -> list[FavoriteDoctor]:
    async with access.granted(pool, principal, patient_id, "favorites.read", request) as (con, _):
        rows = await store.list_favorites(con, patient_id)
    return [FavoriteDoctor.model_validate({**dict(r), "rating": float(r["rating"])}) for r in rows]


async def add_favorite(
    pool: asyncpg.Pool,
    principal: Principal,
    patient_id: uuid.UUID,
    doctor_id: uuid.UUID,
    request: HTTPConnection,
) -> None:
    """Idempotent: adding a doctor twice keeps one entry. Only public (verified) doctors."""
    async with access.granted(pool, principal, patient_id, "favorites.write", request) as (con, _):
        doctor = await doctor_store.get_doctor(con, doctor_id)
        if doctor is None or doctor["verification_status"] != "verified":
            raise DoctorNotFound(NO_SUCH_DOCTOR)
        await store.add_favorite(con, patient_id, doctor_id, clock.now())


async def remove_favorite(
    pool: asyncpg.Pool,
    principal: Principal,
    patient_id: uuid.UUID,
    doctor_id: uuid.UUID,
    request: HTTPConnection,
) -> None:
    """Idempotent: removing a doctor who is not in the list is not an error."""
    async with access.granted(pool, principal, patient_id, "favorites.write", request) as (con, _):
        await store.remove_favorite(con, patient_id, doctor_id)
