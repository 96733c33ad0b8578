"""HTTP routes of the doctors domain: profiles, catalogue, admin verification, reviews."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Query

from server.auth.principal import (
    CurrentPrincipal,
    OptionalPrincipal,
    Principal,
    require_role,
)
from server.deps import PoolDep
from server.doctors import reviews, service
from server.doctors.schemas import (
    DoctorCreate,
    DoctorOut,
    DoctorUpdate,
    RejectRequest,
    ReviewCreate,
    ReviewPosted,
    ReviewsPage,
    Specialization,
)
from server.problems import problem_responses

router = APIRouter(prefix="/api/v1/doctors", tags=["doctors"])
_doctor = require_role("doctor")
_admin = require_role("admin")
catalogue_router = APIRouter(prefix="/api/v1/specializations", tags=["doctors"])
admin_router = APIRouter(prefix="/api/v1/admin/doctors", tags=["admin"])

_P: dict[int, str] = {
    401: "Not signed in (problem+json).",
    403: "Signed in, but this role or account may not do this.",
    404: "No such doctor, or not visible to the caller (unverified).",
    409: "License number or profile already registered.",
    422: "Invalid field (problem+json lists each one).",
}


def _pick(*codes: int) -> dict[int | str, dict[str, Any]]:
    return problem_responses(_P, *codes)


@catalogue_router.get(
    "", response_model=list[Specialization], summary="The specialization catalogue (EN/FR)"
)
async def list_specializations(pool: PoolDep) -> list[Specialization]:
    return await service.list_specializations(pool)


@router.post(
    "",
    status_code=201,
    response_model=DoctorOut,
    summary="Create a doctor profile (own profile, or any doctor account for admins)",
    description="New profiles are `unverified` until an admin verifies them.",
    responses=_pick(401, 403, 409, 422),
)
async def create_doctor(
    body: DoctorCreate,
    principal: CurrentPrincipal,
    pool: PoolDep,
) -> DoctorOut:
    return await service.create_doctor(pool, principal, body)


@router.get(
    "/me",
    response_model=DoctorOut,
    summary="The signed-in doctor's own profile",
    responses=_pick(401, 403, 404),
)
async def my_profile(
    *,
    principal: Principal = Depends(_doctor),
    pool: PoolDep,
) -> DoctorOut:
    return await service.get_own_doctor(pool, principal)


@router.get(
    "/{doctor_id}",
    response_model=DoctorOut,
    summary="A doctor's profile (public once verified)",
    responses=_pick(404),
)
async def get_doctor(
    doctor_id: uuid.UUID,
    principal: OptionalPrincipal,
    pool: PoolDep,
) -> DoctorOut:
    return await service.get_doctor(pool, principal, doctor_id)


@router.put(
    "/{doctor_id}",
    response_model=DoctorOut,
    summary="Edit a doctor profile (the doctor or an admin); omitted fields are kept",
    description="A doctor who changes their license number goes back to `unverified`.",
    responses=_pick(401, 403, 404, 409, 422),
)
async def update_doctor(
    doctor_id: uuid.UUID,
    body: DoctorUpdate,
    principal: CurrentPrincipal,
    pool: PoolDep,
) -> DoctorOut:
    return await service.update_doctor(pool, principal, doctor_id, body)


@router.get(
    "/{doctor_id}/specializations",
    response_model=list[Specialization],
    summary="A doctor's specializations, with their names",
    responses=_pick(404),
)
async def doctor_specializations(
    doctor_id: uuid.UUID,
    principal: OptionalPrincipal,
    pool: PoolDep,
) -> list[Specialization]:
    return await service.doctor_specializations(pool, principal, doctor_id)


@router.get(
    "/{doctor_id}/reviews",
    response_model=ReviewsPage,
    summary="A doctor's reviews, newest first",
    responses=_pick(404, 422),
)
async def list_reviews(
    *,
    doctor_id: uuid.UUID,
    limit: int = Query(20, ge=1, le=100),
    offset: int = Query(0, ge=0),
    principal: OptionalPrincipal,
    pool: PoolDep,
) -> ReviewsPage:
    return await reviews.list_reviews(pool, principal, doctor_id, limit, offset)


@router.post(
    "/{doctor_id}/reviews",
    status_code=201,
    response_model=ReviewPosted,
    summary="Review a doctor after a completed appointment (once per appointment)",
    responses={
        **_pick(401, 404, 422),
        **problem_responses(
            {
                403: "Not a patient, or no completed appointment with this doctor.",
                409: "This appointment was already reviewed.",
            }
        ),
    },
)
async def post_review(
    doctor_id: uuid.UUID,
    body: ReviewCreate,
    principal: CurrentPrincipal,
    pool: PoolDep,
) -> ReviewPosted:
    return await reviews.post_review(pool, principal, doctor_id, body)


@admin_router.post(
    "/{doctor_id}/verify",
    response_model=DoctorOut,
    summary="Verify a doctor: public, bookable and searchable from now on",
    responses=_pick(401, 403, 404),
)
async def verify_doctor(
    *,
    doctor_id: uuid.UUID,
    admin: Principal = Depends(_admin),
    pool: PoolDep,
) -> DoctorOut:
    return await service.verify_doctor(pool, admin, doctor_id)


@admin_router.post(
    "/{doctor_id}/reject",
    response_model=DoctorOut,
    summary="Reject a doctor's verification (hidden from the public)",
    responses=_pick(401, 403, 404, 422),
)
async def reject_doctor(
    *,
    doctor_id: uuid.UUID,
    body: RejectRequest | None = None,
    admin: Principal = Depends(_admin),
    pool: PoolDep,
) -> DoctorOut:
    return await service.reject_doctor(pool, admin, doctor_id, body or RejectRequest())
