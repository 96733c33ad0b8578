"""What the audit trail records for a request, and how a handler can sharpen it.

The action comes from the route template and the resource from its last path parameter; a
service that knows better (e.g. the id of the object a POST just created) passes `resource_id`
to `server.audit.service.record_change`, which writes the entry inside the change's transaction.
The middleware opens an `AuditedRequest` for every mutating API request (a context variable),
so a service deep below the route can build the request's entry without being handed it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.types import Scope

from server.audit.masking import storable
from server.auth.principal import Principal
from server.logs import request_id_var
from storage.audit import NewAuditLog

_PARAM = re.compile(r"^\{(\w+)(?::\w+)?\}$")
_VERSION = re.compile(r"^v\d+$")
# Headers are client-controlled: keep the log's rows bounded.
MAX_USER_AGENT = 512
# An unmatched path is attacker-chosen: keep only its start.
MAX_UNMATCHED_PATH = 200


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


@dataclass
class AuditedRequest:
    """A mutating API request being audited; `recorded`: its entry once it joined the change's
    statement or transaction (the middleware then writes none of its own for that answer)."""

    scope: Scope
    payload: Callable[[], Any]  # the masked body, computed when the entry is built
    recorded: NewAuditLog | None = None

    def entry(self, status: int, at: datetime, resource_id: object | None = None) -> NewAuditLog:
        """The request's entry as it stands: who (the principal the route authenticated),
        what (route template or handler's note), from where, the masked payload, `status`."""
        return request_entry(self.scope, self.payload(), status, at, resource_id)


AUDITED_REQUEST: ContextVar[AuditedRequest | None] = ContextVar("audited_request", default=None)


def request_entry(
    scope: Scope, payload: Any, status: int, at: datetime, resource_id: object | None = None
) -> NewAuditLog:
    state: dict[str, Any] = scope.setdefault("state", {})
    principal = state.get("principal")
    if not isinstance(principal, Principal):
        principal = None
    route: Any = scope.get("route")
    template = getattr(route, "path", None)
    if template:
        action = f"{scope['method']} {template}"
        resource_type, resource = derive_resource(template, scope.get("path_params", {}))
    else:
        action = f"{scope['method']} {storable(scope['path'][:MAX_UNMATCHED_PATH])}"
        resource_type, resource = None, None
    if resource_id is not None:
        resource = str(resource_id)
    headers = dict(scope.get("headers") or [])
    agent = storable(headers.get(b"user-agent", b"").decode("latin-1")[:MAX_USER_AGENT])
    client = scope.get("client")
    return NewAuditLog(
        action=action,
        occurred_at=at,
        user_id=principal.user_id if principal else None,
        role=principal.role if principal else None,
        resource_type=resource_type,
        resource_id=storable(resource) if resource else None,
        ip_address=client[0] if client else None,
        user_agent=agent or None,
        request_id=request_id_var.get(),
        request_payload=payload,
        response_status=status,
    )
