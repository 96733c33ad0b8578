"""Build a patient's export: JSON archive + readable HTML summary, in one zip.

Everything is read through the owning domains' services where one exists (profile, history,
appointments: the same access rules and audit as their REST routes), and only for the caller's
own patient record. Other people appear only as a role ("a doctor"), or for doctors by the name
the patient already sees on their appointment; no other user id, address or message of theirs.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import datetime
from typing import Any

import asyncpg
from starlette.requests import HTTPConnection

from server import clock
from server.audit.service import record_access
from server.auth.principal import Principal
from server.crypto import FieldCipher
from server.engines import Engines
from server.gdpr.summary import summary_html
from server.patients import relatives
from server.patients import service as patients
from server.patients.history import list_history
from server.scheduling import service as scheduling
from storage import auth as auth_store
from storage import gdpr as store
from storage import parties

FORMAT = "markini-export/1"
PAGE = 200
MAX_APPOINTMENTS = 100_000
MAX_ACCESSES = 100_000
MAX_SHARED_HISTORY = 200  # the history route's own page limit


def _who(user_id: uuid.UUID | None, role: str | None, me: uuid.UUID) -> str:
    if user_id == me:
        return "you"
    return {"doctor": "a doctor", "admin": "an administrator"}.get(role or "", "the system")


async def export_data(
    engines: Engines, principal: Principal, request: HTTPConnection
) -> dict[str, Any]:
    """The caller's data as one JSON-ready dict. Raises PatientNotFound without a profile."""
    pool, me = engines.pool, principal.user_id
    profile = await patients.get_own_patient(pool, principal)
    account = await auth_store.user_by_id(pool, me)
    assert account is not None  # the caller is signed in
    history = []
    offset = 0
    while True:
        page = await list_history(
            pool, engines.settings, principal, profile.id, PAGE, offset, request
        )
        history += page.items
        offset += PAGE
        if offset >= page.total:
            break
    listing = await scheduling.list_for_patient(
        engines,
        principal,
        profile.id,
        scheduling.ListQuery(None, None, None, MAX_APPOINTMENTS, 0),
        request,
    )
    appointments = listing.items
    appointment_ids = [a.id for a in appointments]
    cipher = FieldCipher(engines.settings)
    async with pool.acquire() as con:
        doctors = {
            r["id"]: f"Dr {r['first_name']} {r['last_name']}"
            for r in await parties.doctors_by_ids(con, list({a.doctor_id for a in appointments}))
        }
        messages = await store.messages_of(con, appointment_ids)
        resources = [str(profile.id), *(str(i) for i in appointment_ids)]
        accesses = await store.accesses_to(con, resources, MAX_ACCESSES)
        payments = await store.payments_of(con, profile.id)
        sent, in_app = await store.notifications_of(con, me)
    managed = await _relatives(engines, principal, request, doctors)
    data = {
        "format": FORMAT,
        "generated_at": clock.now().isoformat(),
        "account": {
            "email": account.email,
            "role": account.role,
            "created_at": account.created_at.isoformat(),
        },
        "profile": profile.model_dump(mode="json", exclude={"user_id"}),
        "medical_history": [
            {
                "id": str(e.id),
                "condition": e.condition,
                "diagnosis_date": e.diagnosis_date.isoformat() if e.diagnosis_date else None,
                "notes": e.notes,
                "written_by": "you" if e.created_by == me else "a doctor",
                "created_at": e.created_at.isoformat(),
            }
            for e in history
        ],
        "appointments": [
            {
                "id": str(a.id),
                "doctor": {"id": str(a.doctor_id), "name": doctors[a.doctor_id]},
                "start": a.start.isoformat(),
                "end": a.end.isoformat(),
                "time_zone": a.time_zone,
                "visit_type": a.visit_type,
                "status": a.status,
                "reason": a.reason_name,
                "location": a.location,
                "notes": a.notes,
                "fee": a.fee,
                "currency": a.currency,
                "cancelled_by": a.cancelled_by,
                "cancellation_reason": a.cancellation_reason,
                "booked_at": a.created_at.isoformat(),
            }
            for a in appointments
        ],
        "relatives": managed,
        "payments": [_plain(p) for p in payments],
        "notifications": {
            "sent": [_plain(m) for m in sent],
            "in_app": [_plain(n) for n in in_app],
        },
        "messages": [
            {
                "appointment_id": str(m["appointment_id"]),
                "from": "you" if m["sender_user_id"] == me else "your doctor",
                "body": cipher.decrypt(m["body"], aad=m["appointment_id"].bytes),
                "sent_at": m["created_at"].isoformat(),
                "read_at": m["read_at"].isoformat() if m["read_at"] else None,
            }
            for m in messages
        ],
        "access_log": [
            {
                "at": e["occurred_at"].isoformat(),
                "by": _who(e["user_id"], e["role"], me),
                "action": e["action"],
                "record": e["resource_type"],
                "status": e["response_status"],
            }
            for e in accesses
        ],
    }
    return data


async def export_archive(engines: Engines, principal: Principal, request: HTTPConnection) -> bytes:
    """markini-export.zip: export.json and summary.html. The export itself is audited."""
    data = await export_data(engines, principal, request)
    await record_access(
        engines.pool,
        principal=principal,
        action="gdpr.export",
        resource_type="patient",
        resource_id=data["profile"]["id"],
        request=request,
        payload={"appointments": len(data["appointments"]), "messages": len(data["messages"])},
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export.json", json.dumps(data, ensure_ascii=False, indent=2))
        archive.writestr("summary.html", summary_html(data))
    return buffer.getvalue()


async def _relatives(
    engines: Engines,
    principal: Principal,
    request: HTTPConnection,
    doctors: dict[uuid.UUID, str],
) -> list[dict[str, Any]]:
    """The relatives the caller manages (issue #24): their profile, the link's consent and the
    appointments, through the same services (and audit) as the REST routes; their medical
    history only when they share it. Nobody else's data."""
    managed = []
    for relative in await relatives.list_relatives(engines.pool, principal):
        listing = await scheduling.list_for_patient(
            engines,
            principal,
            relative.id,
            scheduling.ListQuery(None, None, None, MAX_APPOINTMENTS, 0),
            request,
        )
        missing = list({a.doctor_id for a in listing.items} - doctors.keys())
        if missing:
            async with engines.pool.acquire() as con:
                for r in await parties.doctors_by_ids(con, missing):
                    doctors[r["id"]] = f"Dr {r['first_name']} {r['last_name']}"
        history = []
        if relative.can_view_history:
            page = await list_history(
                engines.pool,
                engines.settings,
                principal,
                relative.id,
                MAX_SHARED_HISTORY,
                0,
                request,
            )
            history = [
                {
                    "condition": e.condition,
                    "diagnosis_date": e.diagnosis_date.isoformat() if e.diagnosis_date else None,
                    "notes": e.notes,
                    "created_at": e.created_at.isoformat(),
                }
                for e in page.items
            ]
        managed.append(
            {
                "profile": relative.model_dump(mode="json"),
                "medical_history": history,
                "appointments": [
                    {
                        "id": str(a.id),
                        "doctor": {"id": str(a.doctor_id), "name": doctors[a.doctor_id]},
                        "start": a.start.isoformat(),
                        "end": a.end.isoformat(),
                        "visit_type": a.visit_type,
                        "status": a.status,
                        "reason": a.reason_name,
                        "booked_by": "you"
                        if a.booked_by and a.booked_by.id == principal.user_id
                        else "someone else",
                    }
                    for a in listing.items
                ],
            }
        )
    return managed


def _plain(row: asyncpg.Record) -> dict[str, Any]:
    """A row as JSON values: instants ISO 8601, ids text, amounts and text as they are."""
    return {
        k: v.isoformat() if isinstance(v, datetime) else str(v) if isinstance(v, uuid.UUID) else v
        for k, v in dict(row).items()
    }
