"""Property: no input gives a 5xx. Every operation of the OpenAPI document, called with
generated parameters and bodies as a signed-in patient, doctor and admin (issue #16, item 3).

Hypothesis draws in a worker thread; each request runs on the test's event loop, where the app
and its engines live. Budget: EXAMPLES per operation, loopback only, through ASGI.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from server.app import create_app
from server.settings import Settings
from tests.factories import make_doctor, make_patient, make_user

pytestmark = pytest.mark.engines

EXAMPLES = 25
# Run last: they end the caller's session or erase the caller, leaving the rest nothing to test.
_LAST = ("/logout", "erase", "DELETE")


# Any JSON at all, for the fields' wrong-type cases: a server must refuse, never fail.
JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
FORMATS: dict[str, st.SearchStrategy[Any]] = {
    "uuid": st.uuids().map(str),
    "date-time": st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    "date": st.dates().map(str),
    "email": st.emails(),
}


def from_schema(schema: Any, components: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Mostly values of `schema` (a small JSON Schema subset), sometimes any JSON."""
    return (
        st.one_of(_valid(schema, components, depth), JUNK)
        if depth
        else _valid(schema, components, depth) | JUNK
    )


def _valid(schema: Any, components: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
    if not isinstance(schema, dict) or depth > 6:
        return JUNK
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _valid(components.get("schemas", {}).get(name, {}), components, depth + 1)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return st.one_of([_valid(s, components, depth + 1) for s in schema[key]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        values = {k: from_schema(v, components, depth + 1) for k, v in props.items()}
        return st.fixed_dictionaries(
            {k: v for k, v in values.items() if k in required},
            optional={k: v for k, v in values.items() if k not in required},
        )
    if kind == "array":
        return st.lists(from_schema(schema.get("items", {}), components, depth + 1), max_size=3)
    if kind == "string":
        fmt = FORMATS.get(schema.get("format", ""))
        return fmt if fmt is not None else st.text(max_size=schema.get("maxLength", 40) + 2)
    if kind == "integer":
        return st.integers(schema.get("minimum", -(2**40)) - 1, schema.get("maximum", 2**40) + 1)
    if kind == "number":
        return st.floats(allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return JUNK


def _value(schema: dict[str, Any], components: dict[str, Any], known: list[str]) -> Any:
    generated = from_schema(schema, components, 1)
    if schema.get("format") == "uuid":
        return st.one_of(st.sampled_from(known), generated)
    return generated


def _operation_strategy(
    path: str, operation: dict[str, Any], components: dict[str, Any], known: list[str]
) -> st.SearchStrategy[dict[str, Any]]:
    path_params: dict[str, Any] = {}
    query: dict[str, Any] = {}
    for param in operation.get("parameters", []):
        schema = param.get("schema", {})
        if param["in"] == "path":
            path_params[param["name"]] = _value(schema, components, known)
        elif param["in"] == "query":
            value = _value(schema, components, known)
            query[param["name"]] = value if param.get("required") else st.none() | value
    body: Any = st.none()
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        body = from_schema(content["application/json"]["schema"], components)
    return st.fixed_dictionaries(
        {
            "path": st.fixed_dictionaries(path_params),
            "query": st.fixed_dictionaries(query),
            "body": body,
            "who": st.integers(0, 2),
        }
    )


def _url(path: str, params: dict[str, Any]) -> str:
    for name, value in params.items():
        path = path.replace("{" + name + "}", quote(str(value), safe="") or "x")
    return path


async def test_no_operation_answers_5xx_to_generated_input(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    settings: Settings,
    record_property: Callable[[str, object], None],
) -> None:
    patient = await make_patient(db, settings)
    doctor = await make_doctor(db, settings)
    admin = await make_user(db, settings, "admin")
    callers = [patient.user.headers, doctor.user.headers, admin.headers]
    known = [str(x) for x in (patient.id, doctor.id, patient.user.id, doctor.user.id, uuid.uuid4())]
    document = create_app(settings).openapi()
    components = document.get("components", {})
    operations = sorted(
        (
            (method.upper(), path, op)
            for path, item in document["paths"].items()
            for method, op in item.items()
        ),
        key=lambda o: any(mark in o[1] or mark == o[0] for mark in _LAST),
    )
    loop = asyncio.get_running_loop()
    failures: list[str] = []
    calls = 0

    def run(method: str, path: str, operation: dict[str, Any]) -> None:
        @hsettings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(_operation_strategy(path, operation, components, known))
        def check(case: dict[str, Any]) -> None:
            nonlocal calls
            query = {k: v for k, v in case["query"].items() if v is not None}
            request = client.request(
                method,
                _url(path, case["path"]),
                params={k: str(v) if not isinstance(v, list) else v for k, v in query.items()},
                # json.dumps: escapes lone surrogates, writes Infinity/NaN as Python does.
                content=None if case["body"] is None else json.dumps(case["body"]),
                headers={**callers[case["who"]], "Content-Type": "application/json"},
            )
            response = asyncio.run_coroutine_threadsafe(request, loop).result(timeout=60)
            calls += 1
            if response.status_code >= 500:
                failures.append(f"{method} {path} {case!r} -> {response.status_code}")
                raise AssertionError(failures[-1])

        check()

    for method, path, operation in operations:
        try:
            await asyncio.to_thread(run, method, path, operation)
        except AssertionError:
            pass  # recorded in failures; keep going so one run lists every failing operation
    record_property("operations", len(operations))  # shown with --junitxml
    record_property("cases", calls)
    assert not failures, "\n".join(failures)
    assert len(operations) >= 50 and calls >= len(operations)
