"""The GraphQL types of the product spec (Patient, Doctor, Appointment, TimeSlot,
MedicalRecord) built from the domains' API shapes; nested parties come through data loaders."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Annotated

import asyncpg
import strawberry
from strawberry.types import Info

from server import clock
from server.graphql.context import Context
from server.patients.history import list_history
from server.scheduling import service as scheduling
from server.scheduling.schemas import AppointmentOut

MAX_LIST = 100


@strawberry.enum
class AppointmentType(enum.Enum):
    IN_PERSON = "in-person"
    TELECONSULTATION = "teleconsultation"


@strawberry.enum
class AppointmentStatus(enum.Enum):
    HELD = "held"
    SCHEDULED = "scheduled"
    CONFIRMED = "confirmed"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no-show"


@strawberry.type
class TimeSlot:
    start: dt.datetime
    end: dt.datetime
    type: AppointmentType


@strawberry.type
class MedicalRecord:
    id: strawberry.ID
    condition: str
    diagnosis_date: dt.date | None
    notes: str | None
    created_at: dt.datetime


def _limit(limit: int) -> int:
    return max(1, min(limit, MAX_LIST))


@strawberry.type
class Doctor:
    id: strawberry.ID
    first_name: str
    last_name: str
    specialization: list[str] = strawberry.field(description="Specialization codes")
    rating: float | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Doctor:
        return cls(
            id=strawberry.ID(str(row["id"])),
            first_name=row["first_name"],
            last_name=row["last_name"],
            specialization=list(row["specializations"]),
            rating=row["rating"],
        )

    @strawberry.field(description="Free slots in [from, to) (default: the next 7 days)")
    async def availability(
        self,
        info: Info[Context, None],
        from_: Annotated[dt.datetime | None, strawberry.argument(name="from")] = None,
        to: dt.datetime | None = None,
    ) -> list[TimeSlot]:
        ctx = info.context
        start = from_ or clock.now()
        page = await scheduling.list_available_slots(
            ctx.pool,
            uuid.UUID(self.id),
            start,
            to or start + dt.timedelta(days=7),
            principal=ctx.principal_or_none,
        )
        return [
            TimeSlot(start=s.start, end=s.end, type=AppointmentType(s.visit_type))
            for s in page.slots
        ]

    @strawberry.field(description="The doctor's agenda (that doctor and admins)")
    async def appointments(self, info: Info[Context, None], limit: int = 50) -> list[Appointment]:
        ctx = info.context
        query = scheduling.ListQuery(None, None, None, _limit(limit), 0)
        page = await scheduling.list_for_doctor(
            ctx.engines, ctx.principal, uuid.UUID(self.id), query, ctx.http
        )
        return [Appointment.from_out(a) for a in page.items]


@strawberry.type
class Patient:
    id: strawberry.ID
    first_name: str
    last_name: str

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Patient:
        return cls(
            id=strawberry.ID(str(row["id"])),
            first_name=row["first_name"],
            last_name=row["last_name"],
        )

    @strawberry.field(description="Own; a doctor sees those with them; admins all")
    async def appointments(self, info: Info[Context, None], limit: int = 50) -> list[Appointment]:
        ctx = info.context
        query = scheduling.ListQuery(None, None, None, _limit(limit), 0)
        page = await scheduling.list_for_patient(
            ctx.engines, ctx.principal, uuid.UUID(self.id), query, ctx.http
        )
        return [Appointment.from_out(a) for a in page.items]

    @strawberry.field(description="Decrypted; every read audited like REST")
    async def medical_history(
        self, info: Info[Context, None], limit: int = 50
    ) -> list[MedicalRecord]:
        ctx = info.context
        page = await list_history(
            ctx.pool,
            ctx.engines.settings,
            ctx.principal,
            uuid.UUID(self.id),
            _limit(limit),
            0,
            ctx.http,
        )
        return [
            MedicalRecord(
                id=strawberry.ID(str(e.id)),
                condition=e.condition,
                diagnosis_date=e.diagnosis_date,
                notes=e.notes,
                created_at=e.created_at,
            )
            for e in page.items
        ]


@strawberry.type
class Appointment:
    id: strawberry.ID
    doctor_id: strawberry.Private[uuid.UUID]
    patient_id: strawberry.Private[uuid.UUID]
    start: dt.datetime = strawberry.field(description="With the doctor's UTC offset")
    end: dt.datetime
    time_zone: str = strawberry.field(description="The doctor's IANA zone")
    type: AppointmentType
    status: AppointmentStatus
    reason_name: str | None
    location: str
    fee: int = strawberry.field(description="Minor units of `currency`")
    currency: str
    allowed_transitions: list[str]

    @classmethod
    def from_out(cls, out: AppointmentOut) -> Appointment:
        return cls(
            id=strawberry.ID(str(out.id)),
            doctor_id=out.doctor_id,
            patient_id=out.patient_id,
            start=out.start,
            end=out.end,
            time_zone=out.time_zone,
            type=AppointmentType(out.visit_type),
            status=AppointmentStatus(out.status),
            reason_name=out.reason_name,
            location=out.location,
            fee=out.fee,
            currency=out.currency,
            allowed_transitions=list(out.allowed_transitions),
        )

    @strawberry.field(description="Local date in the doctor's zone")
    def date(self) -> dt.date:
        return self.start.date()

    @strawberry.field(description="Local start time in the doctor's zone")
    def start_time(self) -> dt.time:
        return self.start.timetz()

    @strawberry.field
    async def doctor(self, info: Info[Context, None]) -> Doctor:
        row = await info.context.loaders.doctors.load(self.doctor_id)
        assert row is not None  # an appointment's doctor is never deleted
        return Doctor.from_row(row)

    @strawberry.field
    async def patient(self, info: Info[Context, None]) -> Patient:
        row = await info.context.loaders.patients.load(self.patient_id)
        assert row is not None  # erasure keeps the row (its identity fields are blanked)
        return Patient.from_row(row)
