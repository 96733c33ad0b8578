"""GET /api/v1/me/export: the signed-in patient's data as a zip (JSON archive + HTML summary)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from server import clock
from server.audit.service import AUDITED
from server.auth.principal import CurrentPrincipal
from server.deps import EnginesDep
from server.gdpr import service
from server.problems import problem_responses

router = APIRouter(prefix="/api/v1/me", tags=["patients"])


@router.get(
    "/export",
    summary="Download all my data (GDPR Art. 15/20): export.json and summary.html in a zip",
    description=(
        "Profile, medical history (decrypted), appointments, payments, consultation messages, "
        "and the audit of who accessed these records. Only the caller's own data; the export "
        "is itself audited (`gdpr.export`)."
    ),
    responses={
        200: {"content": {"application/zip": {}}, "description": "markini-export.zip"},
        **problem_responses({401: "Not signed in", 404: "The caller has no patient profile"}),
        **AUDITED,
    },
    response_class=Response,
)
async def export(request: Request, principal: CurrentPrincipal, engines: EnginesDep) -> Response:
    archive = await service.export_archive(engines, principal, request)
    stamp = clock.now().strftime("%Y%m%d")
    return Response(
        archive,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="markini-export-{stamp}.zip"',
            "Cache-Control": "no-store",
        },
    )
