"""Our records as FHIR R4 resources (JSON dicts). Only the tests import `fhir.resources` to
validate them; the mapping is plain data so the server has no dependency on a FHIR model."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from server.doctors.schemas import DoctorOut
from server.patients.related import ProxyLink
from server.patients.schemas import PatientOut
from server.scheduling.schemas import AppointmentOut, SlotOut
from server.textguard import without_controls

Resource = dict[str, Any]

FHIR_VERSION = "4.0.1"
SPECIALTY_SYSTEM = "urn:markini:specialty"
LICENCE_SYSTEM = "urn:markini:licence"
VISIT_TYPE_SYSTEM = "urn:markini:visit-type"
PROBLEM_SYSTEM = "urn:markini:problem"
ROLE_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"

# Our appointment states as FHIR Appointment.status (R4 value set appointmentstatus).
APPOINTMENT_STATUS: Mapping[str, str] = {
    "held": "pending",
    "scheduled": "booked",
    "confirmed": "booked",
    "completed": "fulfilled",
    "cancelled": "cancelled",
    "no-show": "noshow",
}
# RelatedPerson.relationship is what the related person (the proxy) is to the patient; we store
# what the patient is to the proxy ("they are my child": CHILD), so the code turns round (as
# web/src/lib/relatives.ts reads it). GUARD is stored for "they are my ward": the proxy is the
# guardian. NOK ("they are my next of kin") names no role of the proxy: text only.
PROXY_ROLE: Mapping[str, str] = {
    "CHILD": "PRN",
    "SON": "PRN",
    "DAU": "PRN",
    "STPCHLD": "STPPRN",
    "MTH": "CHILD",
    "FTH": "CHILD",
    "PRN": "CHILD",
    "GRPRN": "GRNDCHILD",
    "GRNDCHILD": "GRPRN",
    "SIB": "SIB",
    "SPS": "SPS",
    "HUSB": "SPS",
    "WIFE": "SPS",
    "DOMPART": "DOMPART",
    "FAMMEMB": "FAMMEMB",
    "GUARD": "GUARD",
}
NEXT_OF_KIN_OF = "has the patient as next of kin"
# FHIR Patient.gender (administrative-gender) from ours.
GENDER: Mapping[str, str] = {
    "female": "female",
    "male": "male",
    "other": "other",
    "undisclosed": "unknown",
}


def instant(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _specialties(codes: Iterable[str]) -> list[Resource]:
    return [
        {"coding": [{"system": SPECIALTY_SYSTEM, "code": code}], "text": code} for code in codes
    ]


def practitioner(doctor: DoctorOut) -> Resource:
    return {
        "resourceType": "Practitioner",
        "id": str(doctor.id),
        "active": doctor.verification_status == "verified",
        "name": [
            {
                "use": "official",
                "family": doctor.last_name,
                "given": [doctor.first_name],
                "prefix": ["Dr"],
            }
        ],
        "address": [{"city": doctor.city, "use": "work"}] if doctor.city else [],
        "qualification": [
            {
                "identifier": [{"system": LICENCE_SYSTEM, "value": doctor.license_number}],
                "code": spec,
            }
            for spec in _specialties(doctor.specializations)
        ],
    }


def patient(record: PatientOut) -> Resource:
    resource: Resource = {
        "resourceType": "Patient",
        "id": str(record.id),
        "active": True,
        "name": [{"use": "official", "family": record.last_name, "given": [record.first_name]}],
    }
    if record.date_of_birth:
        resource["birthDate"] = record.date_of_birth.isoformat()
    if record.gender:
        resource["gender"] = GENDER[record.gender]
    if record.phone:
        resource["telecom"] = [{"system": "phone", "value": record.phone, "use": "mobile"}]
    return resource


def schedule(doctor: DoctorOut) -> Resource:
    """One Schedule per doctor (same id): the doctor's bookable time."""
    return {
        "resourceType": "Schedule",
        "id": str(doctor.id),
        "active": doctor.verification_status == "verified",
        "specialty": _specialties(doctor.specializations),
        "actor": [{"reference": f"Practitioner/{doctor.id}"}],
        "comment": f"Times in {doctor.time_zone}",
    }


def slot_id(doctor_id: uuid.UUID, slot: SlotOut) -> str:
    """`<doctor id>-<start, Unix seconds>-<i|t>` (in person / teleconsultation): FHIR ids are
    at most 64 characters of [A-Za-z0-9-.]."""
    kind = "t" if slot.visit_type == "teleconsultation" else "i"
    return f"{doctor_id}-{int(slot.start.timestamp())}-{kind}"


def slot(doctor_id: uuid.UUID, record: SlotOut, specialties: Sequence[str]) -> Resource:
    return {
        "resourceType": "Slot",
        "id": slot_id(doctor_id, record),
        "schedule": {"reference": f"Schedule/{doctor_id}"},
        "status": "free",
        "start": instant(record.start),
        "end": instant(record.end),
        "specialty": _specialties(specialties),
        "appointmentType": {"coding": [{"system": VISIT_TYPE_SYSTEM, "code": record.visit_type}]},
    }


def related_person(link: ProxyLink) -> Resource:
    """A proxy link: the proxy as a person related to the patient (the relative); a revoked
    link is inactive, its period ended."""
    role = PROXY_ROLE.get(link.relationship)
    relationship = (
        {"coding": [{"system": ROLE_CODE_SYSTEM, "code": role}]}
        if role
        else {"text": NEXT_OF_KIN_OF}
    )
    period = {"start": instant(link.linked_at)}
    if link.revoked_at:
        period["end"] = instant(link.revoked_at)
    resource: Resource = {
        "resourceType": "RelatedPerson",
        "id": str(link.id),
        "active": link.revoked_at is None,
        "patient": {"reference": f"Patient/{link.relative_id}"},
        "relationship": [relationship],
        "period": period,
    }
    if link.proxy_name:
        first, last = link.proxy_name
        resource["name"] = [{"use": "official", "family": last, "given": [first]}]
    return resource


def appointment(
    record: AppointmentOut, specialties: Sequence[str], booked_by: uuid.UUID | None = None
) -> Resource:
    """`booked_by`: the RelatedPerson (proxy link) who booked it for the patient, if any."""
    resource: Resource = {
        "resourceType": "Appointment",
        "id": str(record.id),
        "status": APPOINTMENT_STATUS[record.status],
        "start": instant(record.start),
        "end": instant(record.end),
        "minutesDuration": int((record.end - record.start).total_seconds() // 60),
        "created": instant(record.created_at),
        "specialty": _specialties(specialties),
        "appointmentType": {"coding": [{"system": VISIT_TYPE_SYSTEM, "code": record.visit_type}]},
        "participant": [
            {
                "actor": {"reference": f"Practitioner/{record.doctor_id}"},
                "required": "required",
                "status": "accepted",
            },
            {
                "actor": {"reference": f"Patient/{record.patient_id}"},
                "required": "required",
                "status": "accepted",
            },
        ],
    }
    if booked_by and record.booked_by:
        actor = {"reference": f"RelatedPerson/{booked_by}"}
        if record.booked_by.name:  # none once the proxy's profile is erased
            actor["display"] = record.booked_by.name
        resource["participant"].append(
            {"actor": actor, "required": "information-only", "status": "accepted"}
        )
    if record.reason_name:
        resource["serviceType"] = [{"text": record.reason_name}]
    if record.cancellation_reason:
        resource["cancelationReason"] = {"text": record.cancellation_reason}
    return resource


def bundle(base: str, self_url: str, resources: Sequence[Resource]) -> Resource:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "link": [{"relation": "self", "url": self_url}],
        "entry": [
            {
                "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources
        ],
    }


def printable(value: Any) -> Any:
    """`value` (a resource, or any part of one) with each control character FHIR R4 strings
    must not hold replaced by U+FFFD: rows stored before names and texts refused them."""
    if isinstance(value, str):
        return without_controls(value)
    if isinstance(value, dict):
        return {key: printable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [printable(item) for item in value]
    return value


def operation_outcome(status: int, code: str, problem: str, detail: str) -> Resource:
    """A refusal as FHIR clients read it; `details` carries the REST problem's code."""
    issue_code = {
        400: "invalid",
        401: "login",
        403: "forbidden",
        404: "not-found",
        409: "conflict",
        422: "invalid",
        429: "throttled",
    }.get(status, "exception")
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": issue_code,
                "details": {"coding": [{"system": PROBLEM_SYSTEM, "code": problem}], "text": code},
                "diagnostics": detail,
            }
        ],
    }


# What each resource offers beyond read, exactly as server/fhir/routes.py takes it
# (tests/server/fhir/test_fhir.py compares the two): (name, FHIR search type, documentation).
SEARCH_PARAMS: Mapping[str, Sequence[tuple[str, str, str]]] = {
    "Practitioner": [
        ("name", "string", "the doctor's name, matched as /api/v1/search/doctors' q"),
        ("specialty", "token", f"{SPECIALTY_SYSTEM} code"),
        ("_count", "number", "at most 100"),
    ],
    "Patient": [],
    "Schedule": [],
    "Slot": [
        ("schedule", "reference", "Schedule/<id> (required)"),
        ("start", "date", "ge/lt bounds, at most 31 days"),
    ],
    "Appointment": [
        ("practitioner", "reference", "Practitioner/<id> (or patient)"),
        ("patient", "reference", "Patient/<id> (or practitioner)"),
        ("date", "date", "eq/ge/gt/le/lt, repeatable"),
        ("status", "token", "FHIR appointmentstatus codes, comma-separated"),
        ("specialty", "token", f"{SPECIALTY_SYSTEM} code"),
        ("_count", "number", "at most 100"),
    ],
    "RelatedPerson": [("patient", "reference", "Patient/<id> (required)")],
}


def capability_statement(base: str, published: datetime) -> Resource:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": instant(published),
        "publisher": "Markini",
        "kind": "instance",
        "implementation": {"description": "Markini FHIR R4 read API", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "description": "Bearer access tokens from /api/v1/auth/login; the same "
                    "authorization as the REST API; every read of health data is audited."
                },
                "resource": [_capability(kind, params) for kind, params in SEARCH_PARAMS.items()],
            }
        ],
    }


def _capability(kind: str, params: Sequence[tuple[str, str, str]]) -> Resource:
    if not params:
        return {"type": kind, "interaction": [{"code": "read"}]}
    return {
        "type": kind,
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "searchParam": [
            {"name": name, "type": kind_, "documentation": doc} for name, kind_, doc in params
        ],
    }
