"""What the audit middleware records for a request, and how a handler can sharpen it.

By default the middleware derives the action from the route template and the resource from
its last path parameter. A handler that knows better (e.g. the id of the object a POST just
created) calls `describe_for_audit(request, resource_id=...)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from starlette.requests import HTTPConnection

# Key in scope["state"]; the middleware reads it after the response.
AUDIT_STATE_KEY = "audit_note"
_PARAM = re.compile(r"^\{(\w+)(?::\w+)?\}$")
_VERSION = re.compile(r"^v\d+$")


@dataclass(frozen=True)
class AuditNote:
    action: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None


def describe_for_audit(
    request: HTTPConnection,
    *,
    action: str | None = None,
    resource_type: str | None = None,
    resource_id: object | None = None,
) -> None:
    """Override what the audit middleware records for this request (None keeps the default)."""
    note = AuditNote(action, resource_type, str(resource_id) if resource_id is not None else None)
    request.scope.setdefault("state", {})[AUDIT_STATE_KEY] = note


def derive_resource(template: str, path_params: dict[str, Any]) -> tuple[str | None, str | None]:
    """(resource_type, resource_id) from a route template and its path parameters.

    The innermost identified resource wins: "/api/v1/patients/{patient_id}/history/{entry_id}"
    → ("history", entry_id); without parameters, the first segment after the version:
    "/api/v1/appointments" → ("appointment", None), "/api/v1/auth/login" → ("auth", None).
    """
    segments = [s for s in template.split("/") if s]
    if segments[:1] == ["api"]:
        segments = segments[1:]
    if segments and _VERSION.match(segments[0]):
        segments = segments[1:]
    for index in range(len(segments) - 1, -1, -1):
        match = _PARAM.match(segments[index])
        if not match:
            continue
        value = path_params.get(match[1])
        owner = next((s for s in reversed(segments[:index]) if not _PARAM.match(s)), None)
        return (_singular(owner) if owner else match[1]), (
            str(value) if value is not None else None
        )
    statics = [s for s in segments if not _PARAM.match(s)]
    return (_singular(statics[0]) if statics else None), None


def _singular(segment: str) -> str:
    name = segment.replace("-", "_")
    if name.endswith("ies"):
        return name[:-3] + "y"
    if name.endswith("s") and not name.endswith("ss"):
        return name[:-1]
    return name
