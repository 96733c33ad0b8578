"""HTTP routes of appointments and free slots; rules live in server.scheduling.service."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response

from server import clock
from server.audit.service import AUDITED
from server.auth.principal import (
    CurrentPrincipal,
    OptionalPrincipal,
    SessionClaim,
)
from server.deps import EnginesDep
from server.errors import InvalidInput
from server.instants import Instant
from server.problems import problem_responses
from server.scheduling import service
from server.scheduling.errors import BAD_RANGE, TO_BEFORE_FROM
from server.scheduling.model import VisitType
from server.scheduling.schemas import (
    AppointmentOut,
    AppointmentPage,
    AppointmentUpdate,
    BookingRequest,
    CancelRequest,
    RescheduleRequest,
    SlotsPage,
)
from server.scheduling.state_machine import Action, Status

router = APIRouter(prefix="/api/v1/appointments", tags=["appointments"])

DEFAULT_SLOT_RANGE = timedelta(days=7)

_R: dict[int, str] = {
    401: "Not signed in.",
    403: "The caller's role or part in the appointment does not allow this.",
    404: "No such appointment / doctor, or not visible to the caller.",
    409: (
        "Slot taken or off the grid (`alternatives`: up to 5 nearest free slots), overlapping "
        "appointment, too late, or a refused transition (`allowed_transitions`)."
    ),
    422: "Invalid input; `errors` lists each field.",
}


def _pick(*codes: int) -> dict[int | str, dict[str, Any]]:
    return problem_responses(_R, *codes)


@router.get(
    "/slots/available",
    response_model=SlotsPage,
    summary="Free slots of a doctor (at most 31 days; default the next 7)",
    description=(
        "Public. With `excluding_appointment_id` (signed in, the appointment's patient or doctor,"
        " or an admin) the list is where that appointment could move: its own time counts as"
        " free, and slots take its own length and its reason's visit types."
    ),
    responses=problem_responses(
        {
            **_R,
            401: "`excluding_appointment_id` without signing in.",
            404: "No such doctor; or `excluding_appointment_id` is not the caller's appointment"
            " with this doctor.",
        },
        401,
        404,
        422,
    ),
)
async def available_slots(
    *,
    doctor_id: uuid.UUID,
    from_: Instant | None = Query(None, alias="from"),
    to: Instant | None = None,
    type: VisitType | None = None,
    reason: uuid.UUID | None = Query(None, description="A visit reason id: its duration applies."),
    excluding_appointment_id: uuid.UUID | None = Query(
        None,
        description="One of the caller's appointments with this doctor, being moved: its time"
        " counts as free and slots take its length (what POST /{id}/reschedule accepts).",
    ),
    principal: OptionalPrincipal,
    engines: EnginesDep,
) -> Response:
    start = from_ or clock.now()
    # The JSON is SlotsPage's (response_model documents it), put together from remembered days.
    body = await service.available_slots_json(
        engines.pool,
        doctor_id,
        start,
        to or start + DEFAULT_SLOT_RANGE,
        type,
        reason,
        patient_cutoff_hours=engines.settings.patient_cancel_cutoff_h,
        principal=principal,
        excluding_appointment_id=excluding_appointment_id,
    )
    return Response(body, media_type="application/json")


@router.post(
    "",
    status_code=201,
    response_model=AppointmentOut,
    summary="Book a free slot (held while paying when payment is required)",
    responses={
        **_pick(401, 403, 404, 409, 422),
        **problem_responses(
            {
                503: "Nothing was booked: the audit trail (`audit-unavailable`) or the caller's"
                " session check (`unavailable`) could not be reached; try again after"
                " `Retry-After` seconds."
            }
        ),
    },
)
async def book(
    body: BookingRequest,
    claim: SessionClaim,
    engines: EnginesDep,
) -> AppointmentOut:
    # The session is checked in the booking's first read (Claim): one round trip fewer.
    return await service.book_appointment(engines, claim, body)


async def _list_query(
    from_: Instant | None = Query(None, alias="from", description="Starts at or after."),
    to: Instant | None = Query(None, description="Starts before."),
    status: list[Status] | None = Query(None, description="Repeat to allow several."),
    limit: int = Query(20, ge=1, le=100),
    offset: int = Query(0, ge=0, le=100_000),
) -> service.ListQuery:
    if from_ and to and to <= from_:
        raise InvalidInput(BAD_RANGE, [TO_BEFORE_FROM.at("to", "query")])
    return service.ListQuery(from_, to, list(status) if status else None, limit, offset)


@router.get(
    "/patient/{patient_id}",
    response_model=AppointmentPage,
    summary="A patient's appointments (own; a doctor sees those with them; admins all)",
    responses={**_pick(401, 403, 404, 422), **AUDITED},
)
async def patient_appointments(
    *,
    request: Request,
    patient_id: uuid.UUID,
    query: service.ListQuery = Depends(_list_query),
    principal: CurrentPrincipal,
    engines: EnginesDep,
) -> AppointmentPage:
    return await service.list_for_patient(engines, principal, patient_id, query, request)


@router.get(
    "/doctor/{doctor_id}",
    response_model=AppointmentPage,
    summary="A doctor's agenda (that doctor and admins)",
    responses={**_pick(401, 403, 404, 422), **AUDITED},
)
async def doctor_appointments(
    *,
    request: Request,
    doctor_id: uuid.UUID,
    query: service.ListQuery = Depends(_list_query),
    principal: CurrentPrincipal,
    engines: EnginesDep,
) -> AppointmentPage:
    return await service.list_for_doctor(engines, principal, doctor_id, query, request)


@router.get(
    "/{appointment_id}",
    response_model=AppointmentOut,
    summary="One appointment (its patient, its doctor, admins)",
    responses={**_pick(401, 404, 422), **AUDITED},
)
async def get_appointment(
    request: Request,
    appointment_id: uuid.UUID,
    principal: CurrentPrincipal,
    engines: EnginesDep,
) -> AppointmentOut:
    return await service.get_appointment(engines, principal, appointment_id, request)


@router.put(
    "/{appointment_id}",
    response_model=AppointmentOut,
    summary="Change notes or the visit reason of an upcoming appointment",
    responses=_pick(401, 404, 409, 422),
)
async def update_appointment(
    appointment_id: uuid.UUID,
    body: AppointmentUpdate,
    principal: CurrentPrincipal,
    engines: EnginesDep,
) -> AppointmentOut:
    return await service.update_appointment(engines, principal, appointment_id, body)


@router.delete(
    "/{appointment_id}",
    status_code=204,
    response_class=Response,
    summary="Cancel (same rules as POST /{id}/cancel)",
    responses=_pick(401, 404, 409, 422),
)
async def delete_appointment(
    appointment_id: uuid.UUID,
    principal: CurrentPrincipal,
    engines: EnginesDep,
) -> Response:
    await service.transition(engines, principal, appointment_id, "cancel")
    return Response(status_code=204)


@router.post(
    "/{appointment_id}/cancel",
    response_model=AppointmentOut,
    summary="Cancel (patient until the cut-off before it, doctor and admin any time)",
    responses=_pick(401, 404, 409, 422),
)
async def cancel(
    *,
    appointment_id: uuid.UUID,
    body: CancelRequest | None = Body(None),
    principal: CurrentPrincipal,
    engines: EnginesDep,
) -> AppointmentOut:
    reason = body.reason if body else None
    return await service.transition(engines, principal, appointment_id, "cancel", reason)


@router.post(
    "/{appointment_id}/reschedule",
    response_model=AppointmentOut,
    summary="Move to another free slot (old time released in the same transaction)",
    responses=_pick(401, 404, 409, 422),
)
async def reschedule(
    appointment_id: uuid.UUID,
    body: RescheduleRequest,
    principal: CurrentPrincipal,
    engines: EnginesDep,
) -> AppointmentOut:
    return await service.reschedule_appointment(engines, principal, appointment_id, body)


def _transition_route(action: Action, path: str, summary: str) -> None:
    async def handler(
        appointment_id: uuid.UUID,
        principal: CurrentPrincipal,
        engines: EnginesDep,
    ) -> AppointmentOut:
        return await service.transition(engines, principal, appointment_id, action)

    handler.__name__ = f"{action}_appointment"
    router.post(
        f"/{{appointment_id}}/{path}",
        response_model=AppointmentOut,
        summary=summary,
        responses=_pick(401, 403, 404, 409, 422),
    )(handler)


_transition_route("confirm", "confirm", "Confirm a scheduled appointment (doctor, admin)")
_transition_route("complete", "complete", "Mark as completed once started (doctor, admin)")
_transition_route("no_show", "no-show", "Mark as a no-show once started (doctor, admin)")
