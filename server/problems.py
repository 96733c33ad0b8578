"""Render every error as RFC 9457 application/problem+json; the only place that does."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from server.errors import (
    FIELDS_INVALID,
    PROBLEM_CODES,
    FieldCode,
    InvalidInput,
    MarkiniError,
    NotFound,
    Reason,
)

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

# How an API whose clients read their own error format (FHIR's OperationOutcome) answers an
# error: (the problem body, its status) -> the response; headers (Allow, Retry-After) are kept.
Dialect = Callable[[Mapping[str, Any], int], Response]
Handler = Callable[[Request, Exception], Awaitable[Response]]

METHOD_NOT_ALLOWED = Reason("method-not-allowed", "Method not allowed")
HTTP_ERROR = Reason("http-error", "The request failed.")
MALFORMED_REQUEST = Reason(
    "malformed-request",
    "The request is not valid HTTP/1.1 (its request line or a header could not be read).",
)
INTERNAL_ERROR = Reason("internal-error", "Something went wrong on our side.")

# pydantic's error types our request models can produce (field codes like our own), with a
# sentence in pydantic's words; `params` are pydantic's context (`min_length`, `expected`, ...).
PYDANTIC_FIELD_CODES = tuple(
    FieldCode(code, english)
    for code, english in (
        ("missing", "Field required"),
        ("extra_forbidden", "Extra inputs are not permitted"),
        ("string_type", "Input should be a valid string"),
        ("string_too_short", "String should have at least {min_length} characters"),
        ("string_too_long", "String should have at most {max_length} characters"),
        ("string_pattern_mismatch", "String should match pattern '{pattern}'"),
        ("int_type", "Input should be a valid integer"),
        ("int_parsing", "Input should be a valid integer, unable to parse string as an integer"),
        ("int_from_float", "Input should be a valid integer, got a number with a fractional part"),
        ("float_type", "Input should be a valid number"),
        ("float_parsing", "Input should be a valid number, unable to parse string as a number"),
        ("bool_type", "Input should be a valid boolean"),
        ("bool_parsing", "Input should be a valid boolean, unable to interpret input"),
        ("greater_than", "Input should be greater than {gt}"),
        ("greater_than_equal", "Input should be greater than or equal to {ge}"),
        ("less_than", "Input should be less than {lt}"),
        ("less_than_equal", "Input should be less than or equal to {le}"),
        ("literal_error", "Input should be {expected}"),
        ("enum", "Input should be {expected}"),
        ("uuid_type", "UUID input should be a string, bytes or UUID object"),
        ("uuid_parsing", "Input should be a valid UUID"),
        ("date_type", "Input should be a valid date"),
        ("date_parsing", "Input should be a valid date in the format YYYY-MM-DD"),
        ("date_from_datetime_parsing", "Input should be a valid date or datetime"),
        ("date_from_datetime_inexact", "Datetimes provided to dates should have zero time"),
        ("datetime_type", "Input should be a valid datetime"),
        ("datetime_parsing", "Input should be a valid datetime"),
        ("datetime_from_date_parsing", "Input should be a valid datetime or date"),
        ("timezone_aware", "Input should have timezone info"),
        ("time_type", "Input should be a valid time"),
        ("time_parsing", "Input should be in a valid time format"),
        ("list_type", "Input should be a valid list"),
        ("too_short", "List should have at least {min_length} items"),
        ("too_long", "List should have at most {max_length} items"),
        ("dict_type", "Input should be a valid dictionary"),
        ("model_type", "Input should be a valid dictionary or instance of the model"),
        ("model_attributes_type", "Input should be a valid dictionary or object"),
        ("decimal_parsing", "Input should be a valid decimal"),
        ("value_error", "Value error, {error}"),
        ("url_type", "URL input should be a string or URL"),
        ("url_parsing", "Input should be a valid URL, {error}"),
        ("url_scheme", "URL scheme should be {expected_schemes}"),
        ("url_too_long", "URL should have at most {max_length} characters"),
    )
)

# The body every error has (RFC 9457), as documented in OpenAPI; domains add members such as
# `errors` (field errors), `alternatives` (free slots) or `allowed_transitions`.
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "English; clients translate `code`."},
        "code": {
            "type": "string",
            "description": "Stable machine code of this refusal, to translate by "
            '(README, "Error codes"); the document lists every value.',
        },
        "params": {
            "type": "object",
            "description": "Values for the blanks of the code's sentence (e.g. `status`).",
            "additionalProperties": {"type": ["string", "number"]},
        },
        "errors": {
            "type": "array",
            "description": "Field errors of a 422: `field` (dotted path such as "
            "`rules.2.end`), `location` (body, query, path, header), `message` (English), "
            "`code` (stable, to translate by) and its `params`.",
            "items": {
                "type": "object",
                "required": ["field", "message", "code"],
                "properties": {
                    "field": {"type": "string"},
                    "location": {"type": "string"},
                    "message": {"type": "string"},
                    "code": {
                        "type": "string",
                        "description": "Our checks' codes and pydantic's error types",
                    },
                    "params": {"type": "object"},
                },
            },
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
    status: int,
    title: str,
    detail: str,
    type_: str = "about:blank",
    *,
    code: str,
    params: Mapping[str, Any] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {"type": type_, "title": title, "status": status, "detail": detail, "code": code}
    if params:
        body["params"] = dict(params)
    return JSONResponse({**body, **extra}, status_code=status, media_type=PROBLEM_JSON)


def render_error(error: MarkiniError) -> JSONResponse:
    response = problem_response(
        error.status,
        error.title,
        error.detail,
        error.type,
        code=error.code,
        params=error.params,
        **error.extra,
    )
    # RFC 9110: a 429/503 may say when to come back; errors carry it as `retry_after` seconds.
    if "retry_after" in error.extra:
        response.headers["Retry-After"] = str(error.extra["retry_after"])
    return response


async def _markini_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MarkiniError)
    return render_error(exc)


def _json_param(value: Any) -> str | int | float:
    return value if isinstance(value, str | int | float) else str(value)


def field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {
            "field": ".".join(str(p) for p in err["loc"] if p != "body"),
            "location": err["loc"][0] if err["loc"] else "body",
            "message": err["msg"],
            "code": err["type"],
            "params": {k: _json_param(v) for k, v in err.get("ctx", {}).items()},
        }
        for err in exc.errors()
    ]


class MalformedJson(MarkiniError):
    status = 400
    title = "Malformed JSON"
    type = "/problems/malformed-json"


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    if any(err["type"] == "json_invalid" for err in exc.errors()):
        return render_error(MalformedJson("The request body is not valid JSON."))
    # A route that checks the caller's session in its own statement (server.auth.principal's
    # Claim) never ran it: checked now, so the caller is told and audited as on other routes.
    unchecked = getattr(request.state, "unchecked_claim", None)
    if unchecked is not None:
        try:
            await unchecked()
        except MarkiniError as refused:
            return render_error(refused)
    return render_error(InvalidInput(FIELDS_INVALID, field_errors(exc)))


def _body_refused(exc: HTTPException) -> bool:
    """FastAPI turns any failure of decoding a JSON body other than JSONDecodeError (invalid
    UTF-8, nesting too deep for the decoder, ...) into a bare 400 HTTPException raised from it."""
    return exc.status_code == 400 and isinstance(exc.__cause__, ValueError | RecursionError)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if _body_refused(exc):
        return render_error(MalformedJson("The request body is not valid JSON."))
    detail = exc.detail if isinstance(exc.detail, str) else "Request failed."
    if exc.status_code == 404:
        response = problem_response(404, NotFound.title, detail, code=NotFound.code)
    elif exc.status_code == 405:
        response = problem_response(
            405, METHOD_NOT_ALLOWED.english, detail, code=METHOD_NOT_ALLOWED.code
        )
    else:
        response = problem_response(exc.status_code, detail, detail, code=HTTP_ERROR.code)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return problem_response(500, "Internal error", INTERNAL_ERROR.english, code=INTERNAL_ERROR.code)


def _with_codes(node: Any, schema: dict[str, Any]) -> None:
    """Put the documented problem schema (with every code listed) under each problem+json."""
    if isinstance(node, dict):
        if isinstance(node.get(PROBLEM_JSON), dict):
            node[PROBLEM_JSON]["schema"] = schema
        for value in node.values():
            _with_codes(value, schema)
    elif isinstance(node, list):
        for value in node:
            _with_codes(value, schema)


def documented_problem_schema() -> dict[str, Any]:
    """PROBLEM_SCHEMA with `code` listing every problem code (the catalogue is complete only
    once every domain module is imported, i.e. when the document is generated)."""
    properties = dict(PROBLEM_SCHEMA["properties"])
    properties["code"] = {**properties["code"], "enum": sorted(PROBLEM_CODES)}
    return {**PROBLEM_SCHEMA, "properties": properties}


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
            _with_codes(schema["paths"], documented_problem_schema())
            for unused in ("HTTPValidationError", "ValidationError"):
                schema.get("components", {}).get("schemas", {}).pop(unused, None)
            app.openapi_schema = schema
        return app.openapi_schema

    return openapi


def _speaking(handler: Handler, dialects: Mapping[str, Dialect]) -> Handler:
    """`handler`, answering in the dialect of the path prefix the request is under, if any."""

    async def handle(request: Request, exc: Exception) -> Response:
        response = await handler(request, exc)
        path = request.scope["path"]
        for prefix, dialect in dialects.items():
            if path == prefix or path.startswith(prefix + "/"):
                assert isinstance(response, JSONResponse)  # every handler here answers one
                spoken = dialect(json.loads(bytes(response.body)), response.status_code)
                for name, value in response.headers.items():
                    if name not in ("content-type", "content-length"):
                        spoken.headers[name] = value
                return spoken
        return response

    return handle


def install_problem_handlers(app: FastAPI, dialects: Mapping[str, Dialect] | None = None) -> None:
    """Every error a problem body, but under a prefix of `dialects` (the path itself or below
    it: unknown paths, wrong methods, validation, domain refusals and 500s alike)."""
    for kind, handler in (
        (MarkiniError, _markini_error),
        (RequestValidationError, _validation_error),
        (HTTPException, _http_error),
        (Exception, _unexpected),
    ):
        app.add_exception_handler(kind, _speaking(handler, dialects or {}))
    app.openapi = _problem_openapi(app)  # type: ignore[method-assign]
