"""HTTP routes of a doctor's availability (under /api/v1/doctors, beside the doctors router)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from server.auth.principal import (
    CurrentPrincipal,
    OptionalPrincipal,
)
from server.deps import PoolDep
from server.problems import problem_responses
from server.scheduling import service
from server.scheduling.availability_schemas import AvailabilityIn, AvailabilityOut, PreviewRequest
from server.scheduling.schemas import SlotsPage

router = APIRouter(prefix="/api/v1/doctors", tags=["availability"])

_R: dict[int, str] = {
    401: "Not signed in.",
    403: "Only the doctor or an admin may change this availability.",
    404: "No such doctor (or unverified and not yours).",
    422: "Invalid availability; `errors` lists each field (e.g. rules.2.end).",
}


@router.get(
    "/{doctor_id}/availability",
    response_model=AvailabilityOut,
    summary="Weekly rules, date exceptions, visit reasons and booking settings",
    responses=problem_responses(_R, 404),
)
async def get_availability(
    doctor_id: uuid.UUID,
    principal: OptionalPrincipal,
    pool: PoolDep,
) -> AvailabilityOut:
    return await service.get_availability(pool, principal, doctor_id)


@router.put(
    "/{doctor_id}/availability",
    response_model=AvailabilityOut,
    summary="Replace the whole availability at once (doctor, admin)",
    responses=problem_responses(_R),
)
async def put_availability(
    doctor_id: uuid.UUID,
    body: AvailabilityIn,
    principal: CurrentPrincipal,
    pool: PoolDep,
) -> AvailabilityOut:
    return await service.replace_availability(pool, principal, doctor_id, body)


@router.post(
    "/{doctor_id}/availability/preview",
    response_model=SlotsPage,
    summary="The free slots a proposed availability would give (nothing is saved)",
    responses=problem_responses(_R),
)
async def preview_availability(
    doctor_id: uuid.UUID,
    body: PreviewRequest,
    principal: CurrentPrincipal,
    pool: PoolDep,
) -> SlotsPage:
    return await service.preview_availability(pool, principal, doctor_id, body)
