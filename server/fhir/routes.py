"""GET /fhir/R4/...: reads and searches answered as application/fhir+json; every error under
/fhir/R4 (unknown path, wrong method, invalid query, refusal) as an OperationOutcome carrying the
REST problem's type and code. Outside the OpenAPI document: the
CapabilityStatement at /fhir/R4/metadata is this API's contract."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import JSONResponse

from server import clock
from server.auth.principal import OptionalPrincipal
from server.deps import EnginesDep
from server.fhir import resources as fhir
from server.fhir import service
from server.fhir.service import AppointmentSearch, Reader

BASE = "/fhir/R4"
FHIR_JSON = "application/fhir+json"


def fhir_response(resource: fhir.Resource, status: int = 200) -> JSONResponse:
    """Every FHIR answer goes out here, its strings made printable (fhir.printable)."""
    return JSONResponse(fhir.printable(resource), status_code=status, media_type=FHIR_JSON)


def outcome(problem: Mapping[str, Any], status: int) -> JSONResponse:
    """A problem body (server/problems.py) as an OperationOutcome: the answer to every error
    under BASE (install_problem_handlers' dialect), FHIR clients do not read problems."""
    issue = fhir.operation_outcome(status, problem["code"], problem["type"], problem["detail"])
    return fhir_response(issue, status)


router = APIRouter(prefix=BASE, include_in_schema=False)
Count = Annotated[int, Query(alias="_count", ge=1, le=service.MAX_COUNT)]


def _reader(request: Request, engines: Any, principal: Any) -> Reader:
    return Reader(engines, principal, request)


def _bundle(request: Request, resources: list[fhir.Resource]) -> JSONResponse:
    base = str(request.base_url).rstrip("/") + BASE
    return fhir_response(fhir.bundle(base, str(request.url), resources))


@router.get("/metadata")
async def metadata(request: Request) -> JSONResponse:
    base = str(request.base_url).rstrip("/") + BASE
    return fhir_response(fhir.capability_statement(base, clock.now()))


@router.get("/Practitioner/{resource_id}")
async def read_practitioner(
    resource_id: str, request: Request, engines: EnginesDep, principal: OptionalPrincipal
) -> JSONResponse:
    reader = _reader(request, engines, principal)
    return fhir_response(await service.read_practitioner(reader, resource_id))


@router.get("/Practitioner")
async def search_practitioners(
    request: Request,
    engines: EnginesDep,
    principal: OptionalPrincipal,
    name: Annotated[str | None, Query(max_length=100)] = None,
    specialty: Annotated[str | None, Query(max_length=64)] = None,
    count: Count = 20,
) -> JSONResponse:
    reader = _reader(request, engines, principal)
    found = await service.search_practitioners(reader, name, specialty, count)
    return _bundle(request, found)


@router.get("/Schedule/{resource_id}")
async def read_schedule(
    resource_id: str, request: Request, engines: EnginesDep, principal: OptionalPrincipal
) -> JSONResponse:
    reader = _reader(request, engines, principal)
    return fhir_response(await service.read_schedule(reader, resource_id))


@router.get("/Patient/{resource_id}")
async def read_patient(
    resource_id: str, request: Request, engines: EnginesDep, principal: OptionalPrincipal
) -> JSONResponse:
    reader = _reader(request, engines, principal)
    return fhir_response(await service.read_patient(reader, resource_id))


@router.get("/RelatedPerson/{resource_id}")
async def read_related_person(
    resource_id: str, request: Request, engines: EnginesDep, principal: OptionalPrincipal
) -> JSONResponse:
    reader = _reader(request, engines, principal)
    return fhir_response(await service.read_related_person(reader, resource_id))


@router.get("/RelatedPerson")
async def search_related_persons(
    request: Request,
    engines: EnginesDep,
    principal: OptionalPrincipal,
    patient: Annotated[str | None, Query(max_length=100)] = None,
) -> JSONResponse:
    reader = _reader(request, engines, principal)
    return _bundle(request, await service.search_related_persons(reader, patient))


@router.get("/Slot/{resource_id}")
async def read_slot(
    resource_id: str, request: Request, engines: EnginesDep, principal: OptionalPrincipal
) -> JSONResponse:
    reader = _reader(request, engines, principal)
    return fhir_response(await service.read_slot(reader, resource_id))


@router.get("/Slot")
async def search_slots(
    request: Request,
    engines: EnginesDep,
    principal: OptionalPrincipal,
    schedule: Annotated[str, Query(max_length=100)],
    start: Annotated[list[str] | None, Query(max_length=40)] = None,
) -> JSONResponse:
    reader = _reader(request, engines, principal)
    return _bundle(request, await service.search_slots(reader, schedule, start or []))


@router.get("/Appointment/{resource_id}")
async def read_appointment(
    resource_id: str, request: Request, engines: EnginesDep, principal: OptionalPrincipal
) -> JSONResponse:
    reader = _reader(request, engines, principal)
    return fhir_response(await service.read_appointment(reader, resource_id))


@router.get("/Appointment")
async def search_appointments(
    request: Request,
    engines: EnginesDep,
    principal: OptionalPrincipal,
    practitioner: Annotated[str | None, Query(max_length=100)] = None,
    patient: Annotated[str | None, Query(max_length=100)] = None,
    date: Annotated[list[str] | None, Query(max_length=40)] = None,
    status: Annotated[str | None, Query(max_length=200)] = None,
    specialty: Annotated[str | None, Query(max_length=64)] = None,
    count: Count = 50,
) -> JSONResponse:
    reader = _reader(request, engines, principal)
    search = AppointmentSearch(practitioner, patient, date or [], status, specialty, count)
    return _bundle(request, await service.search_appointments(reader, search))
