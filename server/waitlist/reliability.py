"""A practice's late cancellations and no-shows (cancellation policy of issue #22): totals and
per patient, for the doctor themself or an admin."""

from __future__ import annotations

import uuid
from datetime import timedelta

from server.auth.principal import Principal
from server.engines import Engines
from server.errors import NO_SUCH_DOCTOR, NotFound
from server.scheduling.access import resolve_caller
from server.waitlist.schemas import PatientReliability, PracticeReliability
from storage.payments import DEFAULT_CUTOFF_HOURS
from storage.reliability import practice_figures


async def practice_reliability(
    engines: Engines, principal: Principal, doctor_id: uuid.UUID
) -> PracticeReliability:
    caller = await resolve_caller(engines.pool, principal)
    if not principal.is_admin and caller.doctor_id != doctor_id:
        raise NotFound(NO_SUCH_DOCTOR)
    # A visit without a reason has the payments domain's default policy, as its quote says.
    default_cutoff = timedelta(hours=DEFAULT_CUTOFF_HOURS)
    async with engines.pool.acquire() as con:
        rows = await practice_figures(con, doctor_id, default_cutoff)
    patients = [
        PatientReliability(
            patient_id=row["patient_id"],
            name=row["name"],
            late_cancellations=row["late_cancellations"],
            no_shows=row["no_shows"],
        )
        for row in rows
    ]
    return PracticeReliability(
        doctor_id=doctor_id,
        late_cancellations=sum(p.late_cancellations for p in patients),
        no_shows=sum(p.no_shows for p in patients),
        patients=patients,
    )
