"""Admin HTTP surface of the audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from server.audit import service
from server.audit.schemas import AuditPage, AuditQuery
from server.auth.administration import require_recent_step_up
from server.auth.principal import Principal
from server.deps import PoolDep
from server.problems import problem_responses

router = APIRouter(prefix="/api/v1/admin/audit", tags=["audit"])
_ERRORS: dict[int, str] = {
    401: "No valid access token",
    403: "The caller is not an admin, or has not re-entered their password in the last 5 "
    "minutes (`/problems/step-up-required`: POST /api/v1/admin/step-up)",
    422: "A filter is malformed or unknown, or `from` is not before `to`",
}


@router.get(
    "",
    response_model=AuditPage,
    summary="Search the audit trail (admins)",
    description=(
        "Entries newest first, filtered by any combination of user, resource, action and "
        "time range (`from` inclusive, `to` exclusive). Keyset pagination: pass the page's "
        "`next_cursor` as `cursor` to get older entries; pages are stable while entries are "
        "appended. This read is itself audited (action `audit.read`). The trail names who read "
        "which patient's health data, so it needs a step-up (password within 5 minutes)."
    ),
    responses={**problem_responses(_ERRORS), **service.AUDITED},
)
async def search_audit(
    *,
    request: Request,
    query: Annotated[AuditQuery, Query()],
    principal: Principal = Depends(require_recent_step_up),
    pool: PoolDep,
) -> AuditPage:
    return await service.search_logs(pool, principal, query, request)
