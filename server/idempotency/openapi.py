"""Document the Idempotency-Key on every operation that takes one (the same rule as the
middleware: server.idempotency.policy.takes_key)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from server.idempotency.policy import HEADER, IN_FLIGHT_RETRY_AFTER_S, REPLAYED_HEADER, takes_key
from server.problems import PROBLEM_JSON, PROBLEM_SCHEMA

PARAMETER: dict[str, Any] = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": (
        "Makes a retry safe (a double click, a retry after a timeout): one unique key per user "
        "action, e.g. a UUID. A repeat with the same key and the same request (method, path, "
        "body) gets the first answer again, stored for 24 hours, with "
        f"`{REPLAYED_HEADER}: true`; a 5xx is not stored (retry with the same key). Keys are "
        "kept per signed-in user."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7e]+$"},
}
_ANSWERS: dict[str, str] = {
    "400": f"Invalid `{HEADER}` (1 to 255 printable ASCII characters), or sent without signing in.",
    "409": (
        f"A request with this `{HEADER}` is still running: retry after `Retry-After` seconds "
        f"({IN_FLIGHT_RETRY_AFTER_S})."
    ),
    "422": f"This `{HEADER}` was already used for a different request (method, path or body).",
}


def _document(operation: dict[str, Any]) -> None:
    parameters = operation.setdefault("parameters", [])
    if not any(p.get("name") == HEADER for p in parameters):
        parameters.append(PARAMETER)
    responses = operation.setdefault("responses", {})
    for code, description in _ANSWERS.items():
        known = responses.get(code)
        if known is None:
            responses[code] = {
                "description": description,
                "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}},
            }
        elif description not in known.get("description", ""):
            known["description"] = f"{known.get('description', '')} {description}".strip()


def install_idempotency_docs(app: FastAPI) -> None:
    """Wrap app.openapi (after server.problems has) to add the header and its answers."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            for path, operations in schema["paths"].items():
                if "post" in operations and takes_key("POST", path):
                    _document(operations["post"])
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
