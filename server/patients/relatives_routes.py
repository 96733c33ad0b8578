"""HTTP routes of family and proxy booking (issue #24): /api/v1/me/relatives."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Response

from server.auth.principal import Principal, require_role
from server.deps import EnginesDep
from server.patients import relatives
from server.patients.ports import LiveAccess, get_live_access
from server.patients.schemas import RelativeCreate, RelativeOut, RelativeUpdate
from server.problems import problem_responses

router = APIRouter(prefix="/api/v1/me/relatives", tags=["patients"])
_patient = require_role("patient")

_R: dict[int, str] = {
    401: "Not signed in (problem+json).",
    403: "Only patient accounts manage relatives.",
    404: "Not one of the caller's relatives (`/problems/patient-not-found`, `no-such-relative`).",
    409: "`relative-has-upcoming-appointments`: nobody else acts for the relative (no login of "
    "their own, no other active proxy) and they have upcoming appointments, which would then "
    "reach nobody; nothing changed. `appointments` lists them, soonest first: `{id, start, end, "
    "status (held, scheduled, confirmed), visit_type, doctor_id, doctor_name, time_zone (the "
    "practice's IANA zone)}`; `params.count` is how many (a hold of the caller's waitlist offer "
    "is not counted: it is declined with the entry). Cancel them first, then remove the "
    "relative.",
    422: "Invalid field; `consent_required` when the consent box is not ticked, "
    "`minor_needs_guardian` / `guardian_for_minors_only` when the basis does not fit the age, "
    "`consent_withdrawn_by_removal` for `consent_given: false` (DELETE withdraws consent).",
}


def _pick(*codes: int) -> dict[int | str, dict[str, Any]]:
    return problem_responses(_R, *codes)


@router.get(
    "",
    response_model=list[RelativeOut],
    summary="The relatives I manage (a child, a parent...), oldest link first",
    responses=_pick(401, 403),
)
async def list_relatives(
    *, principal: Principal = Depends(_patient), engines: EnginesDep
) -> list[RelativeOut]:
    return await relatives.list_relatives(engines.pool, principal)


@router.post(
    "",
    status_code=201,
    response_model=RelativeOut,
    summary="Add a relative's profile with their consent on record (audited)",
    description="Book for them with POST /api/v1/appointments and `patient_id` the relative's id.",
    responses=_pick(401, 403, 422),
)
async def add_relative(
    body: RelativeCreate, *, principal: Principal = Depends(_patient), engines: EnginesDep
) -> RelativeOut:
    return await relatives.add_relative(engines.pool, principal, body)


@router.get(
    "/{relative_id}",
    response_model=RelativeOut,
    summary="One relative I manage",
    responses=_pick(401, 403, 404, 422),
)
async def get_relative(
    relative_id: uuid.UUID, *, principal: Principal = Depends(_patient), engines: EnginesDep
) -> RelativeOut:
    return await relatives.get_relative(engines.pool, principal, relative_id)


@router.put(
    "/{relative_id}",
    response_model=RelativeOut,
    summary="Edit a relative's profile, relationship, consent or history permission (audited)",
    responses=_pick(401, 403, 404, 422),
)
async def update_relative(
    relative_id: uuid.UUID,
    body: RelativeUpdate,
    *,
    principal: Principal = Depends(_patient),
    engines: EnginesDep,
) -> RelativeOut:
    return await relatives.update_relative(engines.pool, principal, relative_id, body)


@router.delete(
    "/{relative_id}",
    status_code=204,
    response_class=Response,
    summary="Stop managing a relative (audited)",
    description="The link is revoked and the caller's waitlist entries for the relative leave "
    "(an open offer is declined, its slot passed on); a relative nobody else manages and "
    "without a login of their own (a suspended login or proxy still counts here) is erased "
    "(identity and medical history go, past appointments stay, as a GDPR erasure). A relative "
    "nobody else actively acts for with upcoming appointments is refused (409): cancel those "
    "first. With their own login or another active proxy (an active account: a suspended one "
    "does not count), removal is always allowed. A booking, accepted waitlist offer or move the "
    "caller makes for the relative at the same moment either commits first (and counts here) "
    "or is refused as a revoked link is. The caller's live sockets leave the relative's "
    "consultation chat and call at once, on every node (`left`, docs/realtime.md).",
    responses=_pick(401, 403, 404, 409, 422),
)
async def remove_relative(
    relative_id: uuid.UUID,
    *,
    principal: Principal = Depends(_patient),
    engines: EnginesDep,
    live: LiveAccess = Depends(get_live_access),
) -> Response:
    await relatives.remove_relative(engines.pool, live, principal, relative_id)
    return Response(status_code=204)
