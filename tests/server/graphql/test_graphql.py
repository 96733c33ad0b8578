"""GraphQL at /graphql: the spec's schema over the REST services, data loaders with a bounded
number of SQL statements, depth and cost limits, REST problem codes on errors, audit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager

import storage.pool
from server import clock
from server.app import create_app
from server.settings import Settings
from tests.factories import User, make_appointment, make_doctor, make_patient

pytestmark = pytest.mark.engines

URL = "/graphql"
LIST = """query($limit: Int!) { myAppointments(limit: $limit) {
    id date startTime type status
    doctor { id firstName lastName specialization rating }
    patient { id firstName lastName } } }"""


# A list of appointments with their parties: the session check, the caller's patient or doctor
# id (twice: the resolver, then the list service), the page, one batch of doctors, one batch of
# patients, and the audit entry of the read.
STATEMENTS = 7


class Statements:
    """Every SQL statement run on behalf of the request being counted.

    asyncpg calls query loggers through `loop.call_soon`, which carries the context of the
    code that ran the statement: background tasks (sealer, relay, sweepers) started without
    the flag, so only the request's own statements (its loader tasks included) are counted.
    """

    def __init__(self) -> None:
        self.counting: ContextVar[bool] = ContextVar("counting", default=False)
        self.seen: list[str] = []

    def log(self, record: Any) -> None:
        # The pool's reset on release is housekeeping, not a statement the request asked for.
        if self.counting.get() and not record.query.startswith("SELECT pg_advisory_unlock_all"):
            self.seen.append(record.query)


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Statements:
    found = Statements()
    original = storage.pool._init_connection

    async def init(con: asyncpg.Connection) -> None:
        # A connection the pool opens mid-request sets its codecs: housekeeping, not counted.
        token = found.counting.set(False)
        try:
            await original(con)
        finally:
            found.counting.reset(token)
        con.add_query_logger(found.log)

    monkeypatch.setattr(storage.pool, "_init_connection", init)
    return found


@pytest.fixture
async def app(settings: Settings, statements: Statements) -> AsyncIterator[Any]:
    application = create_app(settings)
    async with LifespanManager(application, startup_timeout=60, shutdown_timeout=30) as manager:
        yield manager.app


async def gql(
    client: httpx.AsyncClient, who: User | None, query: str, **variables: Any
) -> dict[str, Any]:
    answer = await client.post(
        URL,
        json={"query": query, "variables": variables},
        headers=who.headers if who else {},
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def _count(
    client: httpx.AsyncClient, statements: Statements, who: User, limit: int
) -> tuple[int, dict[str, Any]]:
    statements.seen.clear()
    token = statements.counting.set(True)
    try:
        body = await gql(client, who, LIST, limit=limit)
    finally:
        statements.counting.reset(token)
    await asyncio.sleep(0.05)  # the loggers run on the next loop turns
    return len(statements.seen), body


async def test_fifty_appointments_with_their_parties_run_a_bounded_number_of_statements(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, statements: Statements
) -> None:
    doctor = await make_doctor(db, settings)
    patients = [await make_patient(db, settings, first_name=f"P{i}") for i in range(50)]
    first = clock.now().replace(microsecond=0) + timedelta(days=1)
    for i, patient in enumerate(patients):
        await make_appointment(db, doctor, patient, first + timedelta(minutes=30 * i))

    await _count(client, statements, doctor.user, 1)  # warm: pool connections open, codecs set
    few_count, few = await _count(client, statements, doctor.user, 5)
    many_count, many = await _count(client, statements, doctor.user, 50)

    assert "errors" not in many, many
    items = many["data"]["myAppointments"]
    assert len(items) == 50 and len(few["data"]["myAppointments"]) == 5
    assert {i["patient"]["firstName"] for i in items} == {f"P{i}" for i in range(50)}
    assert {i["doctor"]["id"] for i in items} == {str(doctor.id)}
    # One statement per loader batch, whatever the number of appointments: 50 patients are
    # read in one batch, as 5 are.
    patient_batches = [q for q in statements.seen if "FROM patients.patients WHERE id = ANY" in q]
    assert len(patient_batches) == 1
    per_patient = [q for q in statements.seen if "FROM patients.patients WHERE id = $1" in q]
    assert not per_patient, per_patient
    # Exactly STATEMENTS either way. The count used to vary by up to 6: asyncpg has no built-in
    # codec for uuid[] (the loaders' `id = ANY($1::uuid[])`), so the first such statement on a
    # pool connection introspected the type first (jit off, typeinfo query, jit back: 3), and
    # which connection each concurrent loader got varied. storage.pool now does that once per
    # connection when it opens (not counted, like the json codecs).
    assert few_count == many_count == STATEMENTS, statements.seen


async def test_a_patient_sees_doctors_through_one_batch_and_only_their_own(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, statements: Statements
) -> None:
    patient, other = await make_patient(db, settings), await make_patient(db, settings)
    doctors = [await make_doctor(db, settings, last_name=f"D{i}") for i in range(20)]
    first = clock.now().replace(microsecond=0) + timedelta(days=1)
    for i, doctor in enumerate(doctors):
        await make_appointment(db, doctor, patient, first + timedelta(hours=i))
    await make_appointment(db, doctors[0], other, first + timedelta(days=3))

    await _count(client, statements, patient.user, 1)  # warm: pool connections open
    count, body = await _count(client, statements, patient.user, 50)

    items = body["data"]["myAppointments"]
    assert {i["doctor"]["lastName"] for i in items} == {f"D{i}" for i in range(20)}
    assert {i["patient"]["id"] for i in items} == {str(patient.id)}
    assert len([q for q in statements.seen if "FROM doctors.doctors WHERE id = ANY" in q]) == 1
    assert not [q for q in statements.seen if "FROM doctors.doctors WHERE id = $1" in q]
    assert count == STATEMENTS, statements.seen  # the same statements as the doctor's list


async def test_errors_carry_the_rest_problem_codes(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    patient, stranger = await make_patient(db, settings), await make_patient(db, settings)
    doctor = await make_doctor(db, settings)
    start = clock.now().replace(microsecond=0) + timedelta(days=2)
    appointment = await make_appointment(db, doctor, patient, start)
    query = "query($id: ID!) { appointment(id: $id) { id status } }"

    anonymous = await gql(client, None, query, id=str(appointment))
    assert anonymous["errors"][0]["extensions"]["code"] == "sign-in-required"
    assert anonymous["errors"][0]["extensions"]["status"] == 401
    hidden = await gql(client, stranger.user, query, id=str(appointment))
    extensions = hidden["errors"][0]["extensions"]
    assert (extensions["type"], extensions["status"]) == ("/problems/not-found", 404)
    # The same refusal through REST, for comparison.
    rest = await client.get(f"/api/v1/appointments/{appointment}", headers=stranger.user.headers)
    assert (rest.json()["type"], rest.json()["code"]) == (extensions["type"], extensions["code"])
    bad = await gql(client, patient.user, query, id="not-a-uuid")
    assert bad["errors"][0]["extensions"]["code"] == "not-an-id"
    assert bad["errors"][0]["extensions"]["errors"][0]["code"] == "not_a_uuid"
    mine = await gql(client, patient.user, query, id=str(appointment))
    assert mine["data"]["appointment"] == {"id": str(appointment), "status": "SCHEDULED"}
    read = await db.fetchval(
        "SELECT count(*) FROM audit.logs WHERE action = 'appointment.read' AND resource_id = $1",
        str(appointment),
    )
    assert read >= 2  # the refusal and the read, as through REST


async def test_cancel_mutation_goes_through_the_rules_and_is_audited(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    patient = await make_patient(db, settings)
    doctor = await make_doctor(db, settings)
    start = clock.now().replace(microsecond=0) + timedelta(days=5)
    appointment = await make_appointment(db, doctor, patient, start)
    mutation = """mutation($id: ID!) { cancelAppointment(id: $id, reason: "ill") {
        id status doctor { lastName } } }"""

    done = await gql(client, patient.user, mutation, id=str(appointment))

    assert done["data"]["cancelAppointment"]["status"] == "CANCELLED", done
    again = await gql(client, patient.user, mutation, id=str(appointment))
    assert again["errors"][0]["extensions"]["status"] == 409
    event = await db.fetchval(
        "SELECT count(*) FROM bus.outbox WHERE type = 'appointment.cancelled'"
    )
    assert event == 1
    entry = await db.fetchrow(
        "SELECT user_id, resource_id, response_status FROM audit.logs WHERE action = $1",
        "POST /graphql",
    )
    assert entry is not None and entry["user_id"] == patient.user.id


async def test_depth_and_cost_limits_refuse_before_running(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    patient = await make_patient(db, settings)
    deep = """{ myAppointments { patient { appointments { patient { appointments {
        patient { appointments { id } } } } } } } }"""
    refused = await gql(client, patient.user, deep)
    assert refused.get("data") is None
    assert "depth" in refused["errors"][0]["message"]
    costly = """{ myAppointments(limit: 100) { doctor { appointments(limit: 100) { id } } } }"""
    too_much = await gql(client, patient.user, costly)
    assert too_much.get("data") is None
    assert too_much["errors"][0]["extensions"]["code"] == "query-too-costly"
    assert too_much["errors"][0]["extensions"]["cost"] > 5_000


async def test_book_appointment_refuses_bad_input_with_field_errors(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    patient = await make_patient(db, settings)
    mutation = """mutation($input: BookAppointmentInput!) {
        bookAppointment(input: $input) { id } }"""
    unknown = {
        "doctorId": "00000000-0000-4000-8000-000000000000",
        "start": (clock.now() + timedelta(days=3)).isoformat(),
        "type": "IN_PERSON",
    }
    missing = await gql(client, patient.user, mutation, input=unknown)
    assert missing["errors"][0]["extensions"]["status"] == 404
    long_notes = {**unknown, "notes": "x" * 3000}
    invalid = await gql(client, patient.user, mutation, input=long_notes)
    assert invalid["errors"][0]["extensions"]["code"] == "fields-invalid"  # as the REST 422
    [notes] = invalid["errors"][0]["extensions"]["errors"]
    assert (notes["field"], notes["code"], notes["params"]) == (
        "notes",
        "string_too_long",
        {"max_length": 2000},
    )
    assert await db.fetchval("SELECT count(*) FROM scheduling.appointments") == 0


@pytest.mark.parametrize(
    ("reason", "code"), [("x" * 501, "string_too_long"), ("ill\x0b", "control_character")]
)
async def test_a_cancel_reason_follows_the_rest_bodys_rules(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, reason: str, code: str
) -> None:
    """The same 422 field error as POST .../cancel, and nothing cancelled (a control character
    got through GraphQL before)."""
    patient = await make_patient(db, settings)
    doctor = await make_doctor(db, settings)
    appointment = await make_appointment(db, doctor, patient, clock.now() + timedelta(days=5))
    mutation = """mutation($id: ID!, $reason: String) {
        cancelAppointment(id: $id, reason: $reason) { status } }"""

    refused = await gql(client, patient.user, mutation, id=str(appointment), reason=reason)

    assert refused["errors"][0]["extensions"]["code"] == "fields-invalid", refused
    [error] = refused["errors"][0]["extensions"]["errors"]
    assert (error["field"], error["location"], error["code"]) == ("reason", "arguments", code)
    status = await db.fetchval(
        "SELECT status FROM scheduling.appointments WHERE id = $1", appointment
    )
    assert status != "cancelled"
