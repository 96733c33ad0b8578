"""Who may see or change which appointment and availability (object-level authorization).

Callers who are not a party to an appointment get 404, so ids do not reveal what exists.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg

from server.auth.principal import Principal
from server.errors import NO_SUCH_APPOINTMENT, NO_SUCH_DOCTOR, Forbidden, NotFound
from server.scheduling.errors import EDIT_AVAILABILITY, ONLY_DOCTOR
from server.scheduling.state_machine import ACTION_PARTIES, Party
from storage.scheduling.parties import (
    doctor_id_for_user,
    fetch_doctor,
    patient_and_relatives_for_user,
)


@dataclass(frozen=True)
class Caller:
    principal: Principal
    patient_id: uuid.UUID | None
    doctor_id: uuid.UUID | None
    # The relatives the caller manages (a proxy acts as the patient for them, issue #24).
    relative_ids: frozenset[uuid.UUID] = frozenset()

    @property
    def actor(self) -> str:
        return str(self.principal.user_id)


async def resolve_caller(con: asyncpg.Connection | asyncpg.Pool, principal: Principal) -> Caller:
    patient_id = doctor_id = None
    relatives: list[uuid.UUID] = []
    if principal.role == "patient":
        patient_id, relatives = await patient_and_relatives_for_user(con, principal.user_id)
    elif principal.role == "doctor":
        doctor_id = await doctor_id_for_user(con, principal.user_id)
    return Caller(principal, patient_id, doctor_id, frozenset(relatives))


def acts_as_proxy(caller: Caller, appointment: asyncpg.Record) -> bool:
    """The caller is the appointment's patient through a proxy link, not in person."""
    return (
        not caller.principal.is_admin
        and appointment["patient_id"] != caller.patient_id
        and appointment["patient_id"] in caller.relative_ids
    )


def party_of(caller: Caller, appointment: asyncpg.Record) -> Party | None:
    if caller.principal.is_admin:
        return "admin"
    if caller.patient_id is not None and caller.patient_id == appointment["patient_id"]:
        return "patient"
    if appointment["patient_id"] in caller.relative_ids:
        return "patient"
    if caller.doctor_id is not None and caller.doctor_id == appointment["doctor_id"]:
        return "doctor"
    return None


def require_party(caller: Caller, appointment: asyncpg.Record | None) -> Party:
    """The caller's part in the appointment; 404 when none (or no such appointment)."""
    party = party_of(caller, appointment) if appointment is not None else None
    if party is None:
        raise NotFound(NO_SUCH_APPOINTMENT)
    return party


def require_action(party: Party, action: str) -> None:
    if party not in ACTION_PARTIES[action]:
        raise Forbidden(ONLY_DOCTOR, params={"action": action.replace("_", "-")})


async def require_availability_editor(
    con: asyncpg.Connection | asyncpg.Pool, principal: Principal, doctor_id: uuid.UUID
) -> asyncpg.Record:
    """The doctor row, if the caller is that doctor or an admin (403 otherwise, 404 if none)."""
    doctor = await fetch_doctor(con, doctor_id)
    if principal.is_admin:
        if doctor is None:
            raise NotFound(NO_SUCH_DOCTOR)
        return doctor
    if doctor is None or doctor["user_id"] != principal.user_id:
        raise Forbidden(EDIT_AVAILABILITY)
    return doctor
