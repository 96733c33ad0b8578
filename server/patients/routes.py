"""HTTP routes of the patients domain; who may call what is in server.patients.access."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response

from server.audit.service import AUDITED
from server.auth.principal import CurrentPrincipal, Principal, require_role
from server.deps import EnginesDep
from server.patients import favorites, history, service
from server.patients.ports import LiveAccess, get_live_access
from server.patients.schemas import (
    FavoriteDoctor,
    MedicalHistoryCreate,
    MedicalHistoryOut,
    MedicalHistoryPage,
    PatientCreate,
    PatientOut,
    PatientUpdate,
)
from server.problems import problem_responses

router = APIRouter(prefix="/api/v1/patients", tags=["patients"])
_patient = require_role("patient")

_P: dict[int, str] = {
    401: "Not signed in (problem+json).",
    403: "The caller may see this record but not do this with it; or an admin has not "
    "re-entered their password in the last 5 minutes (`/problems/step-up-required`).",
    404: "No such patient, or not visible to the caller (never leaked).",
    409: "This account already has a patient profile.",
    422: "Invalid field (problem+json lists each one).",
}


def _pick(*codes: int) -> dict[int | str, dict[str, Any]]:
    return problem_responses(_P, *codes)


@router.post(
    "",
    status_code=201,
    response_model=PatientOut,
    summary="Create a patient profile (own, or for a patient account when admin)",
    responses=_pick(401, 403, 409, 422),
)
async def create_patient(
    body: PatientCreate,
    principal: CurrentPrincipal,
    engines: EnginesDep,
) -> PatientOut:
    return await service.create_patient(engines.pool, principal, body)


@router.get(
    "/me",
    response_model=PatientOut,
    summary="The signed-in patient's own profile",
    responses=_pick(401, 403, 404),
)
async def my_profile(
    *,
    principal: Principal = Depends(_patient),
    engines: EnginesDep,
) -> PatientOut:
    return await service.get_own_patient(engines.pool, principal)


@router.get(
    "/{patient_id}",
    response_model=PatientOut,
    summary="A patient's profile (the patient, their doctors, admins; audited)",
    responses={**_pick(401, 404), **AUDITED},
)
async def get_patient(
    patient_id: uuid.UUID,
    request: Request,
    principal: CurrentPrincipal,
    engines: EnginesDep,
) -> PatientOut:
    return await service.get_patient(engines.pool, principal, patient_id, request)


@router.put(
    "/{patient_id}",
    response_model=PatientOut,
    summary="Edit a patient's profile (the patient or an admin); omitted fields are kept",
    responses=_pick(401, 403, 404, 422),
)
async def update_patient(
    patient_id: uuid.UUID,
    body: PatientUpdate,
    request: Request,
    principal: CurrentPrincipal,
    engines: EnginesDep,
) -> PatientOut:
    return await service.update_patient(engines.pool, principal, patient_id, body, request)


@router.delete(
    "/{patient_id}",
    status_code=204,
    response_class=Response,
    summary="Erase a patient (GDPR): identity and medical history go, appointments stay",
    description="The account is deactivated and signed out everywhere. Every proxy link it "
    "ends (the account's relatives, the patient's own proxies) is revoked, and those proxies' "
    "live sockets leave the relative's consultation chat and call at once (`left`, "
    "docs/realtime.md). Audited.",
    responses=_pick(401, 403, 404),
)
async def erase_patient(
    patient_id: uuid.UUID,
    request: Request,
    principal: CurrentPrincipal,
    engines: EnginesDep,
    live: LiveAccess = Depends(get_live_access),
) -> Response:
    await service.erase_patient(engines.pool, live, principal, patient_id, request)
    return Response(status_code=204)


@router.get(
    "/{patient_id}/medical-history",
    response_model=MedicalHistoryPage,
    summary="A patient's medical history, oldest first (audited)",
    responses={**_pick(401, 404, 422), **AUDITED},
)
async def list_medical_history(
    *,
    patient_id: uuid.UUID,
    request: Request,
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0),
    principal: CurrentPrincipal,
    engines: EnginesDep,
) -> MedicalHistoryPage:
    return await history.list_history(
        engines.pool, engines.settings, principal, patient_id, limit, offset, request
    )


@router.post(
    "/{patient_id}/medical-history",
    status_code=201,
    response_model=MedicalHistoryOut,
    summary="Add a medical history entry (the patient or a treating doctor; audited)",
    responses=_pick(401, 403, 404, 422),
)
async def add_medical_history(
    patient_id: uuid.UUID,
    body: MedicalHistoryCreate,
    request: Request,
    principal: CurrentPrincipal,
    engines: EnginesDep,
) -> MedicalHistoryOut:
    return await history.add_history_entry(
        engines.pool, engines.settings, principal, patient_id, body, request
    )


@router.get(
    "/{patient_id}/favorites",
    response_model=list[FavoriteDoctor],
    summary="A patient's favorite doctors, latest first",
    responses={**_pick(401, 403, 404), **AUDITED},
)
async def list_favorites(
    patient_id: uuid.UUID,
    request: Request,
    principal: CurrentPrincipal,
    engines: EnginesDep,
) -> list[FavoriteDoctor]:
    return await favorites.list_favorites(engines.pool, principal, patient_id, request)


@router.post(
    "/{patient_id}/favorites/{doctor_id}",
    status_code=204,
    response_class=Response,
    summary="Add a doctor to the patient's favorites (idempotent)",
    responses=_pick(401, 403, 404),
)
async def add_favorite(
    patient_id: uuid.UUID,
    doctor_id: uuid.UUID,
    request: Request,
    principal: CurrentPrincipal,
    engines: EnginesDep,
) -> Response:
    await favorites.add_favorite(engines.pool, principal, patient_id, doctor_id, request)
    return Response(status_code=204)


@router.delete(
    "/{patient_id}/favorites/{doctor_id}",
    status_code=204,
    response_class=Response,
    summary="Remove a doctor from the patient's favorites (idempotent)",
    responses=_pick(401, 403, 404),
)
async def remove_favorite(
    patient_id: uuid.UUID,
    doctor_id: uuid.UUID,
    request: Request,
    principal: CurrentPrincipal,
    engines: EnginesDep,
) -> Response:
    await favorites.remove_favorite(engines.pool, principal, patient_id, doctor_id, request)
    return Response(status_code=204)
