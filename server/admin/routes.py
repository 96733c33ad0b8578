"""HTTP routes of the admin domain (admins only; every change audited with its event)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from server.admin import service
from server.admin.ports import LiveSessions, get_live_sessions
from server.admin.schemas import (
    AdminUser,
    ChainVerification,
    QueueQuery,
    RoleChange,
    StepUpGranted,
    StepUpRequest,
    SuspendRequest,
    SuspendResult,
    SystemHealth,
    UserQuery,
    UsersPage,
    VerificationQueue,
)
from server.audit.service import AUDITED
from server.auth import administration
from server.auth.principal import Principal, require_role
from server.deps import EnginesDep, PoolDep
from server.problems import problem_responses

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])
_admin = require_role("admin")

_P: dict[int, str] = {
    401: "No valid access token, or (step-up) a wrong password",
    403: "The caller is not an admin, or (health data) has not re-entered their password in "
    "the last 5 minutes (`/problems/step-up-required`)",
    404: "No such account",
    409: "An admin cannot suspend themself or change their own role",
    422: "A field or filter is malformed",
}


def _pick(*codes: int) -> dict[int | str, dict[str, Any]]:
    return problem_responses(_P, *codes)


@router.get(
    "/users",
    response_model=UsersPage,
    summary="Search accounts by email or name, role and state (admins)",
    responses=_pick(401, 403, 422),
)
async def search_users(
    *, query: Annotated[UserQuery, Query()], _: Principal = Depends(_admin), pool: PoolDep
) -> UsersPage:
    return await service.search_users(pool, query)


@router.post(
    "/users/{user_id}/suspend",
    response_model=SuspendResult,
    summary="Suspend an account: signed out everywhere, its live sockets closed at once",
    responses=_pick(401, 403, 404, 409, 422),
)
async def suspend_user(
    *,
    user_id: uuid.UUID,
    body: SuspendRequest | None = None,
    admin: Principal = Depends(_admin),
    pool: PoolDep,
    live: LiveSessions = Depends(get_live_sessions),
) -> SuspendResult:
    reason = body.reason if body else None
    return await service.suspend_user(pool, live, admin, user_id, reason)


@router.post(
    "/users/{user_id}/reactivate",
    response_model=AdminUser,
    summary="Let a suspended account sign in again",
    responses=_pick(401, 403, 404),
)
async def reactivate_user(
    *, user_id: uuid.UUID, admin: Principal = Depends(_admin), pool: PoolDep
) -> AdminUser:
    return await service.reactivate_user(pool, admin, user_id)


@router.put(
    "/users/{user_id}/role",
    response_model=AdminUser,
    summary="Change an account's role (audited; the account signs in again)",
    responses=_pick(401, 403, 404, 409, 422),
)
async def change_role(
    *,
    user_id: uuid.UUID,
    body: RoleChange,
    admin: Principal = Depends(_admin),
    pool: PoolDep,
    live: LiveSessions = Depends(get_live_sessions),
) -> AdminUser:
    return await service.change_role(pool, live, admin, user_id, body.role)


@router.get(
    "/verification-queue",
    response_model=VerificationQueue,
    summary="Doctors waiting for verification, oldest first, with their licence number",
    description="Verify or reject each with POST /api/v1/admin/doctors/{id}/verify | reject.",
    responses=_pick(401, 403, 422),
)
async def verification_queue(
    *, query: Annotated[QueueQuery, Query()], _: Principal = Depends(_admin), pool: PoolDep
) -> VerificationQueue:
    return await service.verification_queue(pool, query)


@router.post(
    "/audit/verify",
    response_model=ChainVerification,
    summary="Verify the audit hash chain (the same check as `markini audit verify`)",
    description="Needs a step-up: the trail names who accessed which patient's health data.",
    responses={**_pick(401, 403), **AUDITED},
)
async def verify_audit_chain(
    *,
    request: Request,
    admin: Principal = Depends(administration.require_recent_step_up),
    pool: PoolDep,
) -> ChainVerification:
    return await service.verify_audit_chain(pool, admin, request)


@router.get(
    "/health",
    response_model=SystemHealth,
    summary="Engines, outbox lag, consumer lag and connected sockets of this node",
    responses=_pick(401, 403),
)
async def system_health(
    *,
    _: Principal = Depends(_admin),
    engines: EnginesDep,
    live: LiveSessions = Depends(get_live_sessions),
) -> SystemHealth:
    return await service.system_health(engines, live)


@router.post(
    "/step-up",
    response_model=StepUpGranted,
    summary="Re-enter the password: health-data actions are allowed for the next 5 minutes",
    responses=_pick(401, 403, 422),
)
async def step_up(
    *, body: StepUpRequest, admin: Principal = Depends(_admin), pool: PoolDep
) -> StepUpGranted:
    return StepUpGranted(valid_until=await administration.step_up(pool, admin, body.password))
