"""FHIR reads: each one calls the domain service the REST route calls (same authorization and
the same audit of health data), maps the answer, and records the FHIR access itself."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from starlette.requests import Request

from server import clock
from server.audit.service import record_access
from server.auth.principal import Principal
from server.doctors import service as doctors
from server.engines import Engines
from server.errors import SIGN_IN, FieldCode, InvalidInput, NotFound, Unauthenticated
from server.fhir import resources as fhir
from server.fhir.errors import (
    BAD_SEARCH,
    EMPTY_RANGE,
    NO_SUCH_RESOURCE,
    NOT_A_DATE,
    PATIENT_TO_SEARCH,
    PRACTITIONER_OR_PATIENT,
    SLOT_NOT_OFFERED,
    UNKNOWN_STATUS,
    WINDOW_TOO_LONG,
)
from server.instants import BOUNDS, INSTANT_OUT_OF_RANGE, within_bounds
from server.patients import related
from server.patients import service as patients
from server.scheduling import service as scheduling
from server.scheduling.schemas import AppointmentOut
from server.search.schemas import DoctorSearchParams
from server.search.service import search_doctors
from storage import parties
from storage import relatives as relatives_store

MAX_COUNT = 100
MAX_SLOT_WINDOW = timedelta(days=31)
DEFAULT_SLOT_WINDOW = timedelta(days=7)
# FHIR appointmentstatus codes -> our states (the inverse of fhir.APPOINTMENT_STATUS).
OUR_STATUSES: dict[str, list[str]] = {}
for ours, theirs in fhir.APPOINTMENT_STATUS.items():
    OUR_STATUSES.setdefault(theirs, []).append(ours)
_PREFIXES = ("eq", "ge", "gt", "le", "lt")


@dataclass(frozen=True)
class Reader:
    """Who reads, through which engines and request (for the audit entry)."""

    engines: Engines
    principal: Principal | None
    request: Request

    async def audit(self, resource_type: str, resource_id: object | None, query: str) -> None:
        await record_access(
            self.engines.pool,
            principal=self.principal,
            action=f"fhir.{resource_type}.{'read' if resource_id else 'search'}",
            resource_type=resource_type.lower(),
            resource_id=str(resource_id) if resource_id else None,
            request=self.request,
            payload={"query": query} if query else None,
        )

    def required(self) -> Principal:
        if self.principal is None:
            raise Unauthenticated(SIGN_IN)
        return self.principal


def parse_id(value: str, kind: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise NotFound(NO_SUCH_RESOURCE, params={"kind": kind}) from exc


def reference(value: str, kind: str) -> uuid.UUID:
    """`Practitioner/<id>` or a bare id."""
    prefix = f"{kind}/"
    return parse_id(value.removeprefix(prefix), kind)


def _bad(field: str, why: FieldCode, **params: str | int) -> InvalidInput:
    return InvalidInput(BAD_SEARCH, [why.at(field, "query", **params)], params={"field": field})


def date_bounds(values: Sequence[str], field: str) -> tuple[datetime | None, datetime | None]:
    """FHIR date search (eq/ge/gt/le/lt prefixes, date or dateTime) as [start, end)."""
    start: datetime | None = None
    end: datetime | None = None
    for raw in values:
        prefix, text = (raw[:2], raw[2:]) if raw[:2] in _PREFIXES else ("eq", raw)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as exc:
            raise _bad(field, NOT_A_DATE) from exc
        day_only = len(text) == 10
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        if not within_bounds(moment):
            raise _bad(field, INSTANT_OUT_OF_RANGE, **BOUNDS)
        after = moment + (timedelta(days=1) if day_only else timedelta(seconds=1))
        if prefix in ("ge", "eq"):
            start = max(start, moment) if start else moment
        if prefix == "gt":
            start = max(start, after) if start else after
        if prefix in ("le", "eq"):
            end = min(end, after) if end else after
        if prefix == "lt":
            end = min(end, moment) if end else moment
    if start and end and end <= start:
        raise _bad(field, EMPTY_RANGE)
    return start, end


async def read_practitioner(reader: Reader, raw_id: str) -> fhir.Resource:
    doctor = await doctors.get_doctor(
        reader.engines.pool, reader.principal, parse_id(raw_id, "Practitioner")
    )
    await reader.audit("Practitioner", doctor.id, "")
    return fhir.practitioner(doctor)


async def search_practitioners(
    reader: Reader, name: str | None, specialty: str | None, count: int
) -> list[fhir.Resource]:
    params = DoctorSearchParams(q=name, specialty=specialty, size=min(count, MAX_COUNT))
    page = await search_doctors(reader.engines, params)
    found = [
        await doctors.get_doctor(reader.engines.pool, reader.principal, hit.id)
        for hit in page.items
    ]
    await reader.audit("Practitioner", None, f"name={name or ''}&specialty={specialty or ''}")
    return [fhir.practitioner(d) for d in found]


async def read_schedule(reader: Reader, raw_id: str) -> fhir.Resource:
    doctor = await doctors.get_doctor(
        reader.engines.pool, reader.principal, parse_id(raw_id, "Schedule")
    )
    await reader.audit("Schedule", doctor.id, "")
    return fhir.schedule(doctor)


async def read_patient(reader: Reader, raw_id: str) -> fhir.Resource:
    # The patients service checks the relation and audits the read (or the refusal) itself.
    record = await patients.get_patient(
        reader.engines.pool, reader.required(), parse_id(raw_id, "Patient"), reader.request
    )
    await reader.audit("Patient", record.id, "")
    return fhir.patient(record)


async def read_related_person(reader: Reader, raw_id: str) -> fhir.Resource:
    link = await related.get_link(
        reader.engines.pool, reader.required(), parse_id(raw_id, "RelatedPerson"), reader.request
    )
    await reader.audit("RelatedPerson", link.id, "")
    return fhir.related_person(link)


async def search_related_persons(reader: Reader, patient_ref: str | None) -> list[fhir.Resource]:
    """The patient's proxies the caller may see (server.patients.related)."""
    principal = reader.required()
    if not patient_ref:
        raise _bad("patient", PATIENT_TO_SEARCH)
    links = await related.links_of(
        reader.engines.pool, principal, reference(patient_ref, "Patient"), reader.request
    )
    await reader.audit("RelatedPerson", None, f"patient={patient_ref}")
    return [fhir.related_person(link) for link in links]


async def search_slots(
    reader: Reader, schedule_ref: str, start_values: Sequence[str]
) -> list[fhir.Resource]:
    doctor_id = reference(schedule_ref, "Schedule")
    start, end = date_bounds(start_values, "start")
    start = start or clock.now()
    end = end or start + DEFAULT_SLOT_WINDOW
    if end - start > MAX_SLOT_WINDOW:
        raise _bad("start", WINDOW_TOO_LONG, days=MAX_SLOT_WINDOW.days)
    return await _slots(reader, doctor_id, start, end)


async def read_slot(reader: Reader, raw_id: str) -> fhir.Resource:
    try:
        doctor, seconds, _ = raw_id.rsplit("-", 2)
        start = datetime.fromtimestamp(int(seconds), UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise NotFound(NO_SUCH_RESOURCE, params={"kind": "Slot"}) from exc
    doctor_id = parse_id(doctor, "Slot")
    found = [
        s
        for s in await _slots(reader, doctor_id, start, start + timedelta(minutes=1))
        if s["id"] == raw_id
    ]
    if not found:
        raise NotFound(SLOT_NOT_OFFERED)
    return found[0]


async def _slots(
    reader: Reader, doctor_id: uuid.UUID, start: datetime, end: datetime
) -> list[fhir.Resource]:
    pool = reader.engines.pool
    page = await scheduling.list_available_slots(
        pool, doctor_id, start, end, principal=reader.principal
    )
    doctor = await doctors.get_doctor(pool, reader.principal, doctor_id)
    await reader.audit("Slot", None, f"schedule={doctor_id}")
    return [fhir.slot(doctor_id, s, doctor.specializations) for s in page.slots]


async def read_appointment(reader: Reader, raw_id: str) -> fhir.Resource:
    record = await scheduling.get_appointment(
        reader.engines, reader.required(), parse_id(raw_id, "Appointment"), reader.request
    )
    specialties = await _specialties([record.doctor_id], reader)
    booked_by = await _booked_by([record], reader)
    return fhir.appointment(record, specialties[record.doctor_id], booked_by.get(record.id))


@dataclass(frozen=True)
class AppointmentSearch:
    practitioner: str | None
    patient: str | None
    dates: Sequence[str]
    status: str | None
    specialty: str | None
    count: int


async def search_appointments(reader: Reader, search: AppointmentSearch) -> list[fhir.Resource]:
    """By practitioner (their agenda) or patient (their list), as the REST lists allow."""
    principal = reader.required()
    start, end = date_bounds(search.dates, "date")
    statuses = None
    if search.status:
        codes = search.status.split(",")
        unknown = [c for c in codes if c not in OUR_STATUSES]
        if unknown:
            raise _bad("status", UNKNOWN_STATUS, code=unknown[0])
        statuses = [ours for code in codes for ours in OUR_STATUSES[code]]
    query = scheduling.ListQuery(start, end, statuses, min(search.count, MAX_COUNT), 0)
    if search.practitioner:
        doctor_id = reference(search.practitioner, "Practitioner")
        page = await scheduling.list_for_doctor(
            reader.engines, principal, doctor_id, query, reader.request
        )
    elif search.patient:
        patient_id = reference(search.patient, "Patient")
        page = await scheduling.list_for_patient(
            reader.engines, principal, patient_id, query, reader.request
        )
    else:
        raise _bad("practitioner", PRACTITIONER_OR_PATIENT)
    specialties = await _specialties({a.doctor_id for a in page.items}, reader)
    booked_by = await _booked_by(page.items, reader)
    await reader.audit("Appointment", None, f"{search}")
    return [
        fhir.appointment(a, specialties[a.doctor_id], booked_by.get(a.id))
        for a in page.items
        if search.specialty is None or search.specialty in specialties[a.doctor_id]
    ]


async def _specialties(
    doctor_ids: Sequence[uuid.UUID] | set[uuid.UUID], reader: Reader
) -> dict[uuid.UUID, list[str]]:
    async with reader.engines.pool.acquire() as con:
        rows = await parties.doctors_by_ids(con, list(doctor_ids))
    return {r["id"]: list(r["specializations"]) for r in rows}


async def _booked_by(
    records: Sequence[AppointmentOut], reader: Reader
) -> dict[uuid.UUID, uuid.UUID]:
    """Appointment id -> the proxy link (RelatedPerson id) of the proxy who booked it."""
    pairs = {a.id: (a.booked_by.id, a.patient_id) for a in records if a.booked_by}
    if not pairs:
        return {}
    async with reader.engines.pool.acquire() as con:
        links = await relatives_store.link_ids(con, list(set(pairs.values())))
    return {a: links[pair] for a, pair in pairs.items() if pair in links}
