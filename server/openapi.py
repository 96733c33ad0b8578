"""Document what every operation may answer before its handler runs: 405 from routing (a method
the path does not declare), 400 for a body that is not JSON, 413 and 415 from the body guard
(server.middleware), and 503 from the audit trail for every mutating API operation (an action
that cannot be recorded does not happen). Added to each operation unless the route already
documents the code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from server.audit.middleware import AUDITED_METHODS
from server.audit.service import AUDITED
from server.middleware import guards_body
from server.problems import PROBLEM_JSON, PROBLEM_SCHEMA

ALLOW_HEADER: dict[str, Any] = {
    "Allow": {
        "description": "The methods this path answers, e.g. `GET, PUT`",
        "schema": {"type": "string"},
    }
}
_EVERY_OPERATION = {
    405: "Method not allowed: this path answers only the methods it documents (`Allow` lists them)",
}
_BODY_GUARD = {
    413: "Request body larger than the server accepts (`MARKINI_MAX_BODY_BYTES`, 1 MB by default)",
    415: "Request body is not sent as `application/json`",
}
_WITH_BODY = {400: "Request body is not valid JSON (or not UTF-8)"}


def _problem(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}},
    }
    if headers:
        answer["headers"] = headers
    return answer


def _document(method: str, path: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    answers: dict[int, str] = dict(_EVERY_OPERATION)
    if guards_body(method, path):
        answers.update(_BODY_GUARD)
    if "requestBody" in operation:
        answers.update(_WITH_BODY)
    for code, description in sorted(answers.items()):
        if str(code) not in responses:
            responses[str(code)] = _problem(description, ALLOW_HEADER if code == 405 else None)
    if method.upper() in AUDITED_METHODS and path.startswith("/api/"):
        for status, answer in AUDITED.items():
            responses.setdefault(str(status), answer)


def install_common_answers_docs(app: FastAPI) -> None:
    """Wrap app.openapi (after server.problems has) to add the answers of the outer layers."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            for path, operations in schema["paths"].items():
                for method, operation in operations.items():
                    _document(method, path, operation)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
