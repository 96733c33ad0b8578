"""HTTP routes of teleconsultation sessions; rules live in server.teleconsult.service."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse

from server.audit.service import AUDITED
from server.auth.principal import CurrentPrincipal, OptionalPrincipal
from server.deps import EnginesDep
from server.problems import problem_responses
from server.teleconsult import invites, precheck, recording, service
from server.teleconsult.ports import LiveCalls, get_live_calls
from server.teleconsult.schemas import (
    ConsentIn,
    GuestIn,
    GuestOut,
    InviteCreated,
    InviteList,
    InviteOut,
    InvitePreview,
    InviteTokenIn,
    JoinOut,
    PrecheckIn,
    PrecheckList,
    PrecheckOut,
    RecordingList,
    SessionCreate,
    SessionEnd,
    SessionOut,
)

router = APIRouter(prefix="/api/v1/teleconsultation", tags=["teleconsultation"])

_R: dict[int, str] = {
    401: "Not signed in.",
    403: (
        "A party asking for the other party's part (admins read but never join) or outside "
        "the joining window (`opens_at`, `closes_at`; the patient opening a session too). "
        "Join refusals are audited."
    ),
    404: (
        "No such session or appointment, or the caller is not one of its parties (answered "
        "alike, so appointment ids reveal nothing)."
    ),
    409: "Not a teleconsultation, or the consultation is closed.",
    422: "Invalid input; `errors` lists each field.",
}


def _pick(*codes: int) -> dict[int | str, dict[str, Any]]:
    return problem_responses(_R, *codes)


@router.post(
    "/session",
    response_model=SessionOut,
    status_code=201,
    summary=(
        "Open the session of a teleconsultation appointment (idempotent): its doctor at any "
        "time, its patient inside the joining window"
    ),
    responses={200: {"description": "The session already existed."}, **_pick(401, 403, 404, 409)},
)
async def create_session(
    body: SessionCreate,
    response: Response,
    principal: CurrentPrincipal,
    engines: EnginesDep,
) -> SessionOut:
    session, created = await service.create_session(engines, principal, body.appointment_id)
    if not created:
        response.status_code = 200
    return session


@router.get(
    "/session",
    response_model=SessionOut,
    summary="The session of an appointment (its parties, admins)",
    responses={**_pick(401, 403, 404, 422), **AUDITED},
)
async def find_session(
    *,
    request: Request,
    appointment_id: uuid.UUID = Query(description="The teleconsultation appointment."),
    principal: CurrentPrincipal,
    engines: EnginesDep,
) -> SessionOut:
    return await service.find_session(engines, principal, appointment_id, request)


@router.get(
    "/session/{session_id}",
    response_model=SessionOut,
    summary="One session (its parties, admins; audited)",
    responses={**_pick(401, 403, 404), **AUDITED},
)
async def get_session(
    session_id: uuid.UUID,
    request: Request,
    principal: CurrentPrincipal,
    engines: EnginesDep,
) -> SessionOut:
    return await service.get_session(engines, principal, session_id, request)


@router.post(
    "/session/{session_id}/join",
    response_model=JoinOut,
    summary="Join: a short-lived join token for call.join on /consult, and ICE servers",
    responses=_pick(401, 403, 404, 409),
)
async def join_session(
    session_id: uuid.UUID,
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    engines: EnginesDep,
) -> JoinOut:
    # A join token and TURN credentials: kept by no cache, nor by the Idempotency-Key store.
    response.headers["Cache-Control"] = "no-store"
    return await service.issue_join(engines, principal, session_id, request)


@router.get(
    "/session/{session_id}/token",
    response_model=JoinOut,
    summary="A fresh join token (e.g. to rejoin after a drop); same rules as join",
    responses={**_pick(401, 403, 404, 409), **AUDITED},
)
async def join_token(
    session_id: uuid.UUID,
    request: Request,
    principal: CurrentPrincipal,
    engines: EnginesDep,
) -> JoinOut:
    return await service.issue_join(
        engines, principal, session_id, request, action="consultation.token"
    )


@router.post(
    "/session/{session_id}/end",
    response_model=SessionOut,
    summary="End the consultation (either party, admins); ending again changes nothing",
    responses=_pick(401, 403, 404, 422),
)
async def end_session(
    *,
    session_id: uuid.UUID,
    body: SessionEnd | None = None,
    principal: CurrentPrincipal,
    engines: EnginesDep,
    live: LiveCalls = Depends(get_live_calls),
) -> SessionOut:
    return await service.end_session(engines, live, principal, session_id, body or SessionEnd())


@router.put(
    "/session/{session_id}/precheck",
    response_model=PrecheckOut,
    summary="Keep your pre-call check (devices, round trip, throughput, verdict) on the session",
    responses=_pick(401, 403, 404, 409, 422),
)
async def save_precheck(
    session_id: uuid.UUID, body: PrecheckIn, principal: CurrentPrincipal, engines: EnginesDep
) -> PrecheckOut:
    return await precheck.save(engines, principal, session_id, body)


@router.get(
    "/session/{session_id}/precheck",
    response_model=PrecheckList,
    summary="Both parties' latest pre-call checks (the doctor reads the patient's)",
    responses=_pick(401, 404),
)
async def read_prechecks(
    session_id: uuid.UUID, principal: CurrentPrincipal, engines: EnginesDep
) -> PrecheckList:
    return await precheck.read(engines, principal, session_id)


@router.post(
    "/session/{session_id}/consent",
    response_model=SessionOut,
    summary="Give or withdraw your consent to recording (each party; both are needed)",
    responses=_pick(401, 403, 404, 409, 422),
)
async def recording_consent(
    session_id: uuid.UUID,
    body: ConsentIn,
    principal: CurrentPrincipal,
    engines: EnginesDep,
    live: LiveCalls = Depends(get_live_calls),
) -> SessionOut:
    return await recording.set_consent(engines, live, principal, session_id, body.consent)


@router.get(
    "/session/{session_id}/recording",
    response_model=RecordingList,
    summary="The recorded files of a session (its parties, admins; audited)",
    responses={**_pick(401, 403, 404), **AUDITED},
)
async def list_recording(
    session_id: uuid.UUID,
    request: Request,
    principal: CurrentPrincipal,
    engines: EnginesDep,
) -> RecordingList:
    return await recording.list_recording(engines, principal, session_id, request)


@router.get(
    "/session/{session_id}/recording/{name}",
    response_class=FileResponse,
    summary="One recorded file, WebM (its parties, admins; audited)",
    responses={200: {"content": {"video/webm": {}}}, **_pick(401, 403, 404), **AUDITED},
)
async def recording_file(
    session_id: uuid.UUID,
    name: str,
    request: Request,
    principal: CurrentPrincipal,
    engines: EnginesDep,
) -> FileResponse:
    path = await recording.recording_file(engines, principal, session_id, name, request)
    return FileResponse(path, media_type="video/webm", filename=name)


_I: dict[int, str] = {
    **_R,
    404: "No such invitation link (or session), or the caller is not a party.",
    409: (
        "The link was used (`invite-used`), withdrawn (`invite-revoked`) or expired with its "
        "consultation (`invite-expired`)."
    ),
}


@router.post(
    "/session/{session_id}/invites",
    response_model=InviteCreated,
    status_code=201,
    summary="Invite a third participant: a single-use link for this session (either party)",
    responses=problem_responses(_I, 401, 403, 404, 409),
)
async def create_invite(
    session_id: uuid.UUID, response: Response, principal: CurrentPrincipal, engines: EnginesDep
) -> InviteCreated:
    response.headers["Cache-Control"] = "no-store"
    return await invites.create_invite(engines, principal, session_id)


@router.get(
    "/session/{session_id}/invites",
    response_model=InviteList,
    summary="The session's invitations and their state (either party)",
    responses=problem_responses(_I, 401, 403, 404, 409),
)
async def list_invites(
    session_id: uuid.UUID, principal: CurrentPrincipal, engines: EnginesDep
) -> InviteList:
    return InviteList(invites=await invites.list_invites(engines, principal, session_id))


@router.delete(
    "/session/{session_id}/invites/{invite_id}",
    response_model=InviteOut,
    summary="Withdraw an invitation link not used yet (either party; again changes nothing)",
    responses=problem_responses(_I, 401, 403, 404, 409),
)
async def revoke_invite(
    session_id: uuid.UUID, invite_id: uuid.UUID, principal: CurrentPrincipal, engines: EnginesDep
) -> InviteOut:
    return await invites.revoke_invite(engines, principal, session_id, invite_id)


@router.post(
    "/invite/preview",
    response_model=InvitePreview,
    summary="What an invitation link shows before use: the doctor's name and the time (no sign-in)",
    responses=problem_responses(_I, 404, 409, 422),
)
async def preview_invite(body: InviteTokenIn, engines: EnginesDep) -> InvitePreview:
    return await invites.preview(engines, body.token)


@router.post(
    "/invite/use",
    response_model=GuestOut,
    summary=(
        "Use an invitation link (signed in or not): spends it and returns a guest token for "
        "/consult; the doctor then admits or refuses the invitee"
    ),
    responses=problem_responses(_I, 403, 404, 409, 422),
)
async def use_invite(
    body: GuestIn,
    request: Request,
    response: Response,
    principal: OptionalPrincipal,
    engines: EnginesDep,
) -> GuestOut:
    response.headers["Cache-Control"] = "no-store"
    return await invites.use_invite(engines, principal, body.token, body, request)
