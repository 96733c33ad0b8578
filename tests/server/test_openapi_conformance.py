"""The OpenAPI document says what the server does (issue #16, item 14): schemathesis generates
valid and invalid requests for every operation, sends them to the app through ASGI as a signed-in
patient, doctor and admin, and checks each answer against the document (status code, content
type, body schema, headers, no 5xx). Every path also answers a documented 405 to the methods it
does not declare.

Dates and datetimes are drawn half from schemathesis' own strategy, half from the edges (years 1
and 9999 with extreme offsets, just outside the documented bounds): the kind of input that
overflows Python or PostgreSQL once the server adds an offset or a horizon.

Hypothesis draws in a worker thread; each request runs on the test's event loop, where the app and
its engines live (schemathesis' own ASGI transport would run the app on another loop). Budget:
EXAMPLES per operation and generation mode, loopback only.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.formats import rfc3339_values

from server.app import create_app
from server.problems import PROBLEM_JSON
from server.settings import Settings
from tests.factories import make_doctor, make_patient, make_user

pytestmark = pytest.mark.engines

EXAMPLES = 12
# The operations are dealt round-robin into shards, each its own test with its own database and
# callers, so pytest-xdist spreads the ~2,000 cases over its workers.
SHARDS = 6
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
EXTREME_DATES = ("0001-01-01", "9999-12-31", "1899-12-31", "3000-01-01", "1900-01-01")
EXTREME_DATE_TIMES = (
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999Z",
    "1899-12-31T23:59:59Z",
    "3000-01-01T00:00:00+14:00",
)
schemathesis.openapi.format("date", rfc3339_values("full-date") | st.sampled_from(EXTREME_DATES))
schemathesis.openapi.format(
    "date-time", rfc3339_values("date-time") | st.sampled_from(EXTREME_DATE_TIMES)
)
# Run last: they end the caller's session or erase the caller, leaving the rest nothing to test.
_LAST = ("/logout", "erase", "DELETE")
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _request(case: schemathesis.Case, headers: dict[str, str]) -> dict[str, Any]:
    """httpx arguments for a generated case (schemathesis serialises for `requests`)."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
    request: dict[str, Any] = {
        "method": kwargs["method"],
        "url": kwargs["url"],
        "params": kwargs.get("params"),
        "headers": kwargs.get("headers"),
    }
    if "json" in kwargs:
        request["json"] = kwargs["json"]
    elif "data" in kwargs:
        request["content"] = kwargs["data"]
    return request


@pytest.mark.parametrize("shard", range(SHARDS))
async def test_every_answer_matches_the_openapi_document(
    shard: int,
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    settings: Settings,
    record_property: Callable[[str, object], None],
) -> None:
    patient = await make_patient(db, settings)
    doctor = await make_doctor(db, settings)
    admin = await make_user(db, settings, "admin")
    callers = itertools.cycle([patient.user.headers, doctor.user.headers, admin.headers])
    schema = schemathesis.openapi.from_dict(create_app(settings).openapi())
    every_operation = sorted(
        (result.ok() for result in schema.get_all_operations()),
        key=lambda op: (
            any(mark in op.path or mark == op.method.upper() for mark in _LAST),
            op.label,
        ),
    )
    operations = every_operation[shard::SHARDS]  # the session enders still come last
    loop = asyncio.get_running_loop()
    failures: list[str] = []
    calls = 0

    def run(operation: Any, mode: GenerationMode) -> None:
        @hsettings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,  # the same cases every run: CI passes or fails on the code alone
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],  # report the first failure, unshrunk
        )
        @given(operation.as_strategy(generation_mode=mode))
        def check(case: schemathesis.Case) -> None:
            nonlocal calls
            request = client.request(**_request(case, next(callers)))
            response = asyncio.run_coroutine_threadsafe(request, loop).result(timeout=60)
            calls += 1
            try:
                case.validate_response(response, checks=CHECKS)
            except FailureGroup as group:
                failures.append(f"{operation.label} [{mode.value}]: {group}")
                raise AssertionError(failures[-1]) from None

        check()

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                await asyncio.to_thread(run, operation, mode)
            except Unsatisfiable:
                pass  # nothing to make invalid (an operation without parameters nor body)
            except AssertionError:
                pass  # recorded in failures; keep going so one run lists every failing operation
    record_property("operations", len(operations))  # shown with --junitxml
    record_property("cases", calls)
    assert not failures, "\n\n".join(failures)
    assert len(every_operation) >= 50 and calls >= len(operations)


def _template(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")


async def test_undeclared_methods_answer_a_documented_405(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    document = create_app(settings).openapi()
    templates = [
        (_template(path), {m.upper() for m in item}) for path, item in document["paths"].items()
    ]
    wrong: list[str] = []
    for path, item in document["paths"].items():
        url = re.sub(r"\{([^}]+)\}", r"\1", path)
        # /doctors/me is also /doctors/{doctor_id}: a method of either is declared for it.
        declared = set().union(*(methods for t, methods in templates if t.match(url)))
        for method in sorted(set(_METHODS) - declared):
            response = await client.request(method, url)
            allowed = set(response.headers.get("allow", "").replace(" ", "").split(","))
            if (
                response.status_code != 405
                or not declared <= allowed
                or response.headers["content-type"] != PROBLEM_JSON
                or any("405" not in operation["responses"] for operation in item.values())
            ):
                wrong.append(f"{method} {path}: {response.status_code} {response.headers}")
    assert not wrong, "\n".join(wrong)
