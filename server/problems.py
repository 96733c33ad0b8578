"""Render every error as RFC 9457 application/problem+json; the only place that does."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from server.errors import MarkiniError

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

# The body every error has (RFC 9457), as documented in OpenAPI; domains add members such as
# `errors` (field errors), `alternatives` (free slots) or `allowed_transitions`.
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "Field errors of a 422: field, location, message, code.",
            "items": {"type": "object"},
        },
    },
    "additionalProperties": True,
}


# Every 429 and 503 says when to come back (RFC 9110 10.2.3; rendered by `render_error`).
RETRY_AFTER_HEADER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer", "minimum": 1},
    }
}


def problem_responses(
    descriptions: Mapping[int, str], *codes: int
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem+json errors a route answers: `codes` picked from a
    domain's `descriptions` (all of them when no code is named)."""
    return {
        code: {
            "description": descriptions[code],
            "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}},
            **({"headers": RETRY_AFTER_HEADER} if code in (429, 503) else {}),
        }
        for code in codes or tuple(descriptions)
    }


def problem_response(
    status: int, title: str, detail: str, type_: str = "about:blank", **extra: Any
) -> JSONResponse:
    body = {"type": type_, "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def render_error(error: MarkiniError) -> JSONResponse:
    response = problem_response(error.status, error.title, error.detail, error.type, **error.extra)
    # RFC 9110: a 429/503 may say when to come back; errors carry it as `retry_after` seconds.
    if "retry_after" in error.extra:
        response.headers["Retry-After"] = str(error.extra["retry_after"])
    return response


async def _markini_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MarkiniError)
    return render_error(exc)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {
            "field": ".".join(str(p) for p in err["loc"] if p != "body"),
            "location": err["loc"][0] if err["loc"] else "body",
            "message": err["msg"],
            "code": err["type"],
        }
        for err in exc.errors()
    ]


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    if any(err["type"] == "json_invalid" for err in exc.errors()):
        return problem_response(
            400, "Malformed JSON", "The request body is not valid JSON.", "/problems/malformed-json"
        )
    return problem_response(
        422,
        "Invalid input",
        "Some fields are missing or invalid.",
        "/problems/invalid-input",
        errors=_field_errors(exc),
    )


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else "Request failed."
    titles = {404: "Not found", 405: "Method not allowed"}
    response = problem_response(exc.status_code, titles.get(exc.status_code, detail), detail)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return problem_response(500, "Internal error", "Something went wrong on our side.")


def _problem_openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """FastAPI documents its own 422 body for every route with parameters; ours is a problem."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            for path in schema["paths"].values():
                for operation in path.values():
                    invalid = operation.get("responses", {}).get("422")
                    if invalid and PROBLEM_JSON not in invalid.get("content", {}):
                        invalid["description"] = "Invalid input; `errors` lists each field."
                        invalid["content"] = {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}}
            for unused in ("HTTPValidationError", "ValidationError"):
                schema.get("components", {}).get("schemas", {}).pop(unused, None)
            app.openapi_schema = schema
        return app.openapi_schema

    return openapi


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(MarkiniError, _markini_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    app.openapi = _problem_openapi(app)  # type: ignore[method-assign]
