"""Payloads of the events the patients domain emits (see /work/contracts.md)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict

from bus.events import PATIENT_CREATED, PATIENT_DELETED, PATIENT_UPDATED, register_payload


class PatientChanged(BaseModel):
    """Only the id travels: patient data is personal and stays in the patients schema."""

    model_config = ConfigDict(extra="forbid")

    patient_id: uuid.UUID


def subject(patient_id: uuid.UUID) -> str:
    return f"patient:{patient_id}"


for _type in (PATIENT_CREATED, PATIENT_UPDATED, PATIENT_DELETED):
    register_payload(_type, PatientChanged)
