"""HTTP routes of the waitlist; rules live in server.waitlist.service."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response

from server.auth.principal import CurrentPrincipal, OptionalPrincipal
from server.deps import EnginesDep
from server.problems import problem_responses
from server.scheduling.schemas import AppointmentOut
from server.waitlist import policy, queue, reliability, service
from server.waitlist.schemas import (
    CancellationPolicy,
    CancellationQuote,
    DelayIn,
    DelayOut,
    EntryList,
    EntryOut,
    JoinRequest,
    PracticeReliability,
    PracticeSettings,
    PracticeSettingsOut,
    QueueOut,
    WaitingCount,
)

router = APIRouter(prefix="/api/v1/waitlist", tags=["waitlist"])

_R: dict[int, str] = {
    401: "Not signed in.",
    403: "Only patients wait (doctors and admins read counts).",
    404: "No such doctor, entry, offer or appointment to move, or not the caller's (nor a "
    "relative's the caller manages); `no-such-relative` when `patient_id` is not the caller "
    "nor a relative the caller manages.",
    409: "Already waiting for this doctor and visit type (`already-waiting`), or the offer is "
    "no longer open (`offer-closed`: accepted, declined or lapsed).",
    422: "Invalid input; `errors` lists each field.",
}


def _pick(*codes: int) -> dict[int | str, dict[str, Any]]:
    return problem_responses(_R, *codes)


@router.post(
    "",
    status_code=201,
    response_model=EntryOut,
    summary="Wait for an earlier slot with a doctor (for oneself or a relative one manages)",
    responses=_pick(401, 403, 404, 409, 422),
)
async def join(body: JoinRequest, principal: CurrentPrincipal, engines: EnginesDep) -> EntryOut:
    return await service.join(engines, principal, body)


@router.get(
    "",
    response_model=EntryList,
    summary="The caller's waitlist entries and its relatives', each with its open offer",
    responses=_pick(401, 403),
)
async def my_entries(principal: CurrentPrincipal, engines: EnginesDep) -> EntryList:
    return await service.my_entries(engines, principal)


@router.delete(
    "/{entry_id}",
    status_code=204,
    response_class=Response,
    summary="Leave the waitlist (an open offer of the entry is declined)",
    responses=_pick(401, 403, 404, 422),
)
async def leave(entry_id: uuid.UUID, principal: CurrentPrincipal, engines: EnginesDep) -> Response:
    await service.leave(engines, principal, entry_id)
    return Response(status_code=204)


@router.post(
    "/offers/{offer_id}/accept",
    response_model=AppointmentOut,
    summary="Accept an offer: the slot is booked (and the named appointment moved) at once",
    responses=_pick(401, 403, 404, 409, 422),
)
async def accept(
    offer_id: uuid.UUID, principal: CurrentPrincipal, engines: EnginesDep
) -> AppointmentOut:
    return await service.accept(engines, principal, offer_id)


@router.post(
    "/offers/{offer_id}/decline",
    status_code=204,
    response_class=Response,
    summary="Decline an offer: the slot passes to the next patient waiting",
    responses=_pick(401, 403, 404, 409, 422),
)
async def decline(
    offer_id: uuid.UUID, principal: CurrentPrincipal, engines: EnginesDep
) -> Response:
    await service.decline(engines, principal, offer_id)
    return Response(status_code=204)


@router.get(
    "/doctors/{doctor_id}/count",
    response_model=WaitingCount,
    summary="How many patients wait for the doctor (the doctor themself or an admin)",
    responses=_pick(401, 404, 422),
)
async def waiting_count(
    doctor_id: uuid.UUID, principal: CurrentPrincipal, engines: EnginesDep
) -> WaitingCount:
    return await service.waiting_for_doctor(engines, principal, doctor_id)


@router.put(
    "/doctors/{doctor_id}/running-late",
    response_model=DelayOut,
    summary="Say the doctor runs late today (the doctor themself or an admin)",
    responses=_pick(401, 404, 422),
)
async def running_late(
    doctor_id: uuid.UUID, body: DelayIn, principal: CurrentPrincipal, engines: EnginesDep
) -> DelayOut:
    return await queue.declare_running_late(engines, principal, doctor_id, body.minutes)


@router.get(
    "/appointments/{appointment_id}/queue",
    response_model=QueueOut,
    summary="Expected start and position in the doctor's day (its patient, doctor or an admin)",
    responses=_pick(401, 404, 422),
)
async def appointment_queue(
    appointment_id: uuid.UUID, principal: CurrentPrincipal, engines: EnginesDep
) -> QueueOut:
    return await queue.appointment_queue(engines, principal, appointment_id)


@router.get(
    "/doctors/{doctor_id}/reliability",
    response_model=PracticeReliability,
    summary="Late cancellations and no-shows of the practice, per patient (doctor or admin)",
    responses=_pick(401, 404, 422),
)
async def practice_reliability(
    doctor_id: uuid.UUID, principal: CurrentPrincipal, engines: EnginesDep
) -> PracticeReliability:
    return await reliability.practice_reliability(engines, principal, doctor_id)


@router.get(
    "/doctors/{doctor_id}/settings",
    response_model=PracticeSettingsOut,
    summary="The practice's offer hold time and prepayment threshold (doctor or admin)",
    responses=_pick(401, 404, 422),
)
async def practice_settings(
    doctor_id: uuid.UUID, principal: CurrentPrincipal, engines: EnginesDep
) -> PracticeSettingsOut:
    return await policy.read_settings(engines, principal, doctor_id)


@router.put(
    "/doctors/{doctor_id}/settings",
    response_model=PracticeSettingsOut,
    summary="Set the offer hold time (2..60 min) and prepayment threshold (doctor or admin)",
    responses=_pick(401, 404, 422),
)
async def save_practice_settings(
    doctor_id: uuid.UUID, body: PracticeSettings, principal: CurrentPrincipal, engines: EnginesDep
) -> PracticeSettingsOut:
    return await policy.save_settings(engines, principal, doctor_id, body)


@router.get(
    "/doctors/{doctor_id}/cancellation-policy",
    response_model=CancellationPolicy,
    summary="A visit reason's cancellation policy, shown before booking (public)",
    responses=_pick(404, 422),
)
async def cancellation_policy(
    doctor_id: uuid.UUID,
    principal: OptionalPrincipal,
    engines: EnginesDep,
    reason_id: uuid.UUID | None = None,
) -> CancellationPolicy:
    return await policy.cancellation_policy(engines, principal, doctor_id, reason_id)


@router.get(
    "/appointments/{appointment_id}/cancellation",
    response_model=CancellationQuote,
    summary="What cancelling now means: late or not, the refund, whether a reason is asked",
    responses=_pick(401, 404, 422),
)
async def cancellation_quote(
    appointment_id: uuid.UUID, principal: CurrentPrincipal, engines: EnginesDep
) -> CancellationQuote:
    return await policy.cancellation_quote(engines, principal, appointment_id)
