"""Medical history: condition and notes encrypted at rest (AES-GCM, server.crypto), every access
audited.

The ciphertexts are bound to their patient (aad = the patient id's 16 bytes), so a value copied
into another patient's row does not decrypt. Keys rotate through `settings.data_keys`: the first
key encrypts, every listed key decrypts, so rows written under an older key stay readable.
"""

from __future__ import annotations

import logging
import uuid

import asyncpg
from starlette.requests import HTTPConnection

from server import clock
from server.auth.principal import Principal
from server.crypto import DecryptionError, FieldCipher
from server.patients import access
from server.patients.errors import HISTORY_UNREADABLE, HistoryUnreadable
from server.patients.schemas import MedicalHistoryCreate, MedicalHistoryOut, MedicalHistoryPage
from server.settings import Settings
from storage import patients as store

log = logging.getLogger(__name__)


def _aad(patient_id: uuid.UUID) -> bytes:
    return patient_id.bytes


def _decrypt(cipher: FieldCipher, row: asyncpg.Record) -> MedicalHistoryOut:
    aad = _aad(row["patient_id"])
    notes = row["notes"]
    try:
        condition = cipher.decrypt(row["condition"], aad)
        plain_notes = cipher.decrypt(notes, aad) if notes is not None else None
    except DecryptionError as exc:
        # An operator's problem (a key dropped from MARKINI_DATA_KEYS, or a tampered row).
        log.error(
            "medical history entry does not decrypt",
            extra={"entry_id": str(row["id"]), "kid": row["condition"].get("kid")},
        )
        raise HistoryUnreadable(HISTORY_UNREADABLE) from exc
    return MedicalHistoryOut(
        id=row["id"],
        patient_id=row["patient_id"],
        condition=condition,
        diagnosis_date=row["diagnosis_date"],
        notes=plain_notes,
        created_by=row["created_by"],
        created_at=row["created_at"],
    )


async def list_history(
    pool: asyncpg.Pool,
    settings: Settings,
    principal: Principal,
    patient_id: uuid.UUID,
    limit: int,
    offset: int,
    request: HTTPConnection,
) -> MedicalHistoryPage:
    cipher = FieldCipher(settings)
    async with access.granted(pool, principal, patient_id, "history.read", request) as (con, _):
        rows = await store.list_history(con, patient_id, limit, offset)
        total = await store.count_history(con, patient_id)
    items = [_decrypt(cipher, row) for row in rows]
    return MedicalHistoryPage(items=items, total=total, limit=limit, offset=offset)


async def add_history_entry(
    pool: asyncpg.Pool,
    settings: Settings,
    principal: Principal,
    patient_id: uuid.UUID,
    body: MedicalHistoryCreate,
    request: HTTPConnection,
) -> MedicalHistoryOut:
    cipher = FieldCipher(settings)
    aad = _aad(patient_id)
    condition = cipher.encrypt(body.condition, aad)
    notes = cipher.encrypt(body.notes, aad) if body.notes is not None else None
    async with access.granted(pool, principal, patient_id, "history.write", request) as (con, _):
        row = await store.insert_history_entry(
            con, patient_id, condition, body.diagnosis_date, notes, principal.user_id, clock.now()
        )
    log.info("medical history entry added", extra={"patient_id": str(patient_id)})
    return _decrypt(cipher, row)
