"""What search shows of a doctor's agenda, asked of the scheduling service: which visit types
the availability rules offer, and the first free slot of each."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from server import clock
from server.errors import NotFound
from server.scheduling.model import VisitType
from server.scheduling.service import get_availability, next_available_slot


@dataclass(frozen=True)
class DoctorAvailability:
    offers_in_person: bool = False
    offers_teleconsultation: bool = False
    next_in_person: datetime | None = None
    next_teleconsultation: datetime | None = None
    # The availability version read before the slots: they reflect at least this version.
    version: int = 0


async def offered_visit_types(
    pool: asyncpg.Pool, doctor_id: uuid.UUID
) -> tuple[set[VisitType], int]:
    """Visit types of the weekly rules and of extra hours still to come, and the version."""
    try:
        availability = await get_availability(pool, None, doctor_id)
    except NotFound:  # gone, or not verified: nothing is offered to the public
        return set(), 0
    today = clock.now().date()
    offered = {rule.visit_type for rule in availability.rules}
    offered |= {
        e.visit_type
        for e in availability.exceptions
        if e.kind == "extra-hours" and e.visit_type is not None and e.end_date >= today
    }
    return offered, availability.availability_version


async def read_availability(pool: asyncpg.Pool, doctor_id: uuid.UUID) -> DoctorAvailability:
    offered, version = await offered_visit_types(pool, doctor_id)
    if not offered:
        return DoctorAvailability(version=version)
    in_person, teleconsultation = await asyncio.gather(
        next_available_slot(pool, doctor_id, "in-person") if "in-person" in offered else _none(),
        next_available_slot(pool, doctor_id, "teleconsultation")
        if "teleconsultation" in offered
        else _none(),
    )
    return DoctorAvailability(
        offers_in_person="in-person" in offered,
        offers_teleconsultation="teleconsultation" in offered,
        next_in_person=in_person,
        next_teleconsultation=teleconsultation,
        version=version,
    )


async def _none() -> None:
    return None
