"""The GraphQL schema: the product spec's Query and Mutation, plus `myAppointments` for the web
app. Every resolver calls the same service as the REST route, so authorization, audit and
errors are the REST ones."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import strawberry
from pydantic import ValidationError
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.types import Info

from server.doctors import service as doctors
from server.errors import Forbidden, InvalidInput
from server.graphql.context import Context
from server.graphql.errors import (
    NOT_A_UUID,
    NOT_AN_ID,
    OWN_APPOINTMENTS_ROLE,
    ProblemErrors,
    invalid_input,
)
from server.graphql.limits import QueryCostLimiter
from server.graphql.ranges import instant_range
from server.graphql.types import (
    MAX_LIST,
    Appointment,
    AppointmentType,
    Doctor,
    Patient,
)
from server.patients import service as patients
from server.scheduling import service as scheduling
from server.scheduling.access import resolve_caller
from server.scheduling.schemas import BookingRequest, CancelRequest
from server.search.schemas import DoctorSearchParams
from server.search.service import search_doctors

MAX_DEPTH = 6


def _uuid(value: strawberry.ID, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise InvalidInput(
            NOT_AN_ID, [NOT_A_UUID.at(field, "arguments")], params={"field": field}
        ) from exc


@strawberry.input
class BookAppointmentInput:
    doctor_id: strawberry.ID
    start: dt.datetime = strawberry.field(description="A free slot's start, with its offset")
    type: AppointmentType
    reason_id: strawberry.ID | None = None
    notes: str = ""
    patient_id: strawberry.ID | None = strawberry.field(
        default=None, description="Admins book for this patient"
    )


@strawberry.type
class Query:
    @strawberry.field(description="A patient profile (self, their doctors, admins); audited")
    async def patient(self, info: Info[Context, None], id: strawberry.ID) -> Patient | None:
        ctx = info.context
        out = await patients.get_patient(ctx.pool, ctx.principal, _uuid(id, "id"), ctx.http)
        return Patient(
            id=strawberry.ID(str(out.id)), first_name=out.first_name, last_name=out.last_name
        )

    @strawberry.field(description="A verified doctor (anyone), or any doctor (admins, self)")
    async def doctor(self, info: Info[Context, None], id: strawberry.ID) -> Doctor | None:
        ctx = info.context
        out = await doctors.get_doctor(ctx.pool, ctx.principal_or_none, _uuid(id, "id"))
        return Doctor(
            id=strawberry.ID(str(out.id)),
            first_name=out.first_name,
            last_name=out.last_name,
            specialization=list(out.specializations),
            rating=out.rating,
        )

    @strawberry.field(description="Verified doctors by specialty (code or name) and place")
    async def search_doctors(
        self,
        info: Info[Context, None],
        specialty: str | None = None,
        location: str | None = None,
        limit: int = 20,
    ) -> list[Doctor]:
        try:
            params = DoctorSearchParams(
                specialty=specialty, location=location, size=max(1, min(limit, MAX_LIST))
            )
        except ValidationError as exc:
            raise invalid_input(exc, "arguments") from exc
        page = await search_doctors(info.context.engines, params)
        return [
            Doctor(
                id=strawberry.ID(str(hit.id)),
                first_name=hit.first_name,
                last_name=hit.last_name,
                specialization=[s.code for s in hit.specializations],
                rating=hit.rating,
            )
            for hit in page.items
        ]

    @strawberry.field(description="One appointment (its patient, its doctor, admins); audited")
    async def appointment(self, info: Info[Context, None], id: strawberry.ID) -> Appointment | None:
        ctx = info.context
        out = await scheduling.get_appointment(
            ctx.engines, ctx.principal, _uuid(id, "id"), ctx.http
        )
        return Appointment.from_out(out)

    @strawberry.field(description="The caller's appointments: a patient's own, a doctor's agenda")
    async def my_appointments(
        self,
        info: Info[Context, None],
        limit: int = 50,
        from_: Annotated[dt.datetime | None, strawberry.argument(name="from")] = None,
        to: dt.datetime | None = None,
    ) -> list[Appointment]:
        ctx = info.context
        from_, to = instant_range(from_, to)
        caller = await resolve_caller(ctx.pool, ctx.principal)
        query = scheduling.ListQuery(from_, to, None, max(1, min(limit, MAX_LIST)), 0)
        if caller.patient_id is not None:
            page = await scheduling.list_for_patient(
                ctx.engines, ctx.principal, caller.patient_id, query, ctx.http
            )
        elif caller.doctor_id is not None:
            page = await scheduling.list_for_doctor(
                ctx.engines, ctx.principal, caller.doctor_id, query, ctx.http
            )
        else:
            raise Forbidden(OWN_APPOINTMENTS_ROLE)
        return [Appointment.from_out(a) for a in page.items]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Book a free slot (as POST /api/v1/appointments)")
    async def book_appointment(
        self, info: Info[Context, None], input: BookAppointmentInput
    ) -> Appointment:
        ctx = info.context
        try:
            body = BookingRequest(
                doctor_id=input.doctor_id,
                start=input.start,
                visit_type=input.type.value,
                reason_id=input.reason_id,
                notes=input.notes,
                patient_id=input.patient_id,
            )
        except ValidationError as exc:
            raise invalid_input(exc) from exc
        return Appointment.from_out(
            await scheduling.book_appointment(ctx.engines, ctx.principal, body)
        )

    @strawberry.mutation(description="Cancel (as POST /api/v1/appointments/{id}/cancel)")
    async def cancel_appointment(
        self, info: Info[Context, None], id: strawberry.ID, reason: str | None = None
    ) -> Appointment:
        ctx = info.context
        try:  # the REST body's rules: length, control characters
            body = CancelRequest(reason=reason)
        except ValidationError as exc:
            raise invalid_input(exc, "arguments") from exc
        out = await scheduling.transition(
            ctx.engines, ctx.principal, _uuid(id, "id"), "cancel", body.reason
        )
        return Appointment.from_out(out)


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    # Factories: each request gets its own extension instances.
    extensions=[
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=20),
        lambda: MaxTokensLimiter(max_token_count=2_000),
        QueryCostLimiter,
        ProblemErrors,
    ],
)
