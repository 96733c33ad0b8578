"""Demo agendas for `markini seed` / `serve --demo`: weekly rules, visit reasons and a few days
off for every doctor without availability, then past (mostly completed) and upcoming
appointments with the demo patients — patient@markini.test always gets some.

Deterministic per doctor (random seeded by its id) and idempotent: doctors who already have rules
or appointments are left alone. One doctor.availability.updated event per seeded doctor (search
and live views refresh); no appointment events: demo bookings are not news to notify anyone of.
"""

from __future__ import annotations

import logging
import random
import uuid
from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Any

from server import clock
from server.crypto import FieldCipher
from server.engines import Engines
from server.scheduling.events import emit_availability
from server.scheduling.grid import day_slots
from server.scheduling.model import (
    Availability,
    DateException,
    Slot,
    VisitReason,
    VisitType,
    WeeklyRule,
)
from server.scheduling.slots import zone_of
from storage.scheduling import demo as store
from storage.scheduling.versions import bump_versions

log = logging.getLogger(__name__)

DEMO_PATIENT_EMAIL = "patient@markini.test"
NAMESPACE = uuid.UUID("0b4f8a52-1f3e-4d8e-9c1a-536368656475")
DEMO_DOCTOR_EMAIL = "doctor@markini.test"
PAST_DAYS, FUTURE_DAYS = 60, 21
PAST_PER_DOCTOR, FUTURE_PER_DOCTOR = (0, 3), (0, 2)
NOTES = (
    "Renouvellement d'ordonnance",
    "Douleurs au genou depuis deux semaines",
    "Contrôle de tension",
    "Certificat de sport",
    None,
    None,
)

# (weekday, start, end, minutes, visit type): a GP, a specialist, a part-timer.
TEMPLATES: tuple[tuple[tuple[int, str, str, int, VisitType], ...], ...] = (
    tuple(
        (d, s, e, 20, "in-person")
        for d in range(1, 6)
        for s, e in (("09:00", "12:00"), ("14:00", "18:00"))
    )
    + ((3, "18:00", "19:00", 20, "teleconsultation"),),
    (
        (1, "09:00", "13:00", 30, "in-person"),
        (2, "09:00", "13:00", 30, "in-person"),
        (4, "09:00", "13:00", 30, "in-person"),
        (5, "14:00", "17:00", 30, "teleconsultation"),
    ),
    tuple((d, "08:30", "12:30", 30, "in-person") for d in range(2, 7))
    + ((1, "17:00", "19:00", 30, "teleconsultation"),),
)
REASONS = {
    "fr": ("Consultation", "Première consultation", "Suivi", "Téléconsultation"),
    "en": ("Consultation", "First visit", "Follow-up", "Video consultation"),
}


@dataclass
class _Plan:
    rules: list[tuple[Any, ...]] = field(default_factory=list)
    exceptions: list[tuple[Any, ...]] = field(default_factory=list)
    reasons: list[tuple[Any, ...]] = field(default_factory=list)
    appointments: list[tuple[Any, ...]] = field(default_factory=list)
    # Active appointments per doctor / patient: the exclusion constraints must hold.
    busy: dict[uuid.UUID, list[Slot]] = field(default_factory=dict)


def _agenda(doctor: Any, rng: random.Random, plan: _Plan) -> Availability:
    template = rng.choice(TEMPLATES)
    rules = tuple(
        WeeklyRule(d, time.fromisoformat(s), time.fromisoformat(e), m, t, "Cabinet")
        for d, s, e, m, t in template
    )
    plan.rules += [
        (doctor["id"], r.day_of_week, r.start, r.end, r.slot_minutes, r.visit_type, r.location)
        for r in rules
    ]
    minutes = rules[0].slot_minutes
    names = REASONS["fr" if doctor["country"] == "FR" else "en"]
    fee = doctor["consultation_fee"]
    reasons = (
        VisitReason(
            uuid.uuid5(NAMESPACE, f"{doctor['id']}:0"),
            names[0],
            minutes,
            ("in-person", "teleconsultation"),
        ),
        VisitReason(
            uuid.uuid5(NAMESPACE, f"{doctor['id']}:1"),
            names[1],
            minutes * 2,
            ("in-person",),
            fee + 1000,
        ),
        VisitReason(
            uuid.uuid5(NAMESPACE, f"{doctor['id']}:2"),
            names[2],
            minutes,
            ("in-person", "teleconsultation"),
            None,
            False,
        ),
        VisitReason(
            uuid.uuid5(NAMESPACE, f"{doctor['id']}:3"),
            names[3],
            minutes,
            ("teleconsultation",),
            max(fee - 500, 0),
        ),
    )
    plan.reasons += [
        (
            r.id,
            doctor["id"],
            r.name,
            r.duration_minutes,
            list(r.visit_types),
            r.fee_override,
            r.new_patients_allowed,
            i,
        )
        for i, r in enumerate(reasons)
    ]
    exceptions: tuple[DateException, ...] = ()
    if rng.random() < 0.15:  # some take a week off in the coming month
        first = clock.now().date() + timedelta(days=rng.randint(7, 28))
        exceptions = (DateException("time-off", first, first + timedelta(days=6), note="Congés"),)
        plan.exceptions.append(
            (doctor["id"], "time-off", first, first + timedelta(days=6), "Congés")
        )
    return Availability(doctor["id"], zone_of(doctor["time_zone"]), rules, exceptions, reasons)


def _free(plan: _Plan, key: uuid.UUID, slot: Slot) -> bool:
    return all(slot.end <= b.start or b.end <= slot.start for b in plan.busy.get(key, []))


def _book(
    plan: _Plan,
    cipher: FieldCipher,
    rng: random.Random,
    doctor: Any,
    availability: Availability,
    patient_id: uuid.UUID,
    day_offset: int,
    index: int,
) -> None:
    now = clock.now()
    day = (now + timedelta(days=day_offset)).astimezone(availability.zone).date()
    slots = day_slots(availability, day)
    rng.shuffle(slots)
    past = day_offset < 0
    for slot in slots:
        if (not past and slot.start < now + timedelta(hours=2)) or (past and slot.end > now):
            continue
        if not past and not (_free(plan, doctor["id"], slot) and _free(plan, patient_id, slot)):
            continue
        status = (
            rng.choices(("completed", "no-show", "cancelled"), (90, 5, 5))[0]
            if past
            else rng.choices(("scheduled", "confirmed", "cancelled"), (55, 40, 5))[0]
        )
        if status in ("scheduled", "confirmed"):
            plan.busy.setdefault(doctor["id"], []).append(slot)
            plan.busy.setdefault(patient_id, []).append(slot)
        appointment_id = uuid.uuid5(NAMESPACE, f"appointment:{doctor['id']}:{index}")
        notes = rng.choice(NOTES)
        reason = availability.reasons[0]
        cancelled = status == "cancelled"
        plan.appointments.append(
            (
                appointment_id,
                doctor["id"],
                patient_id,
                slot.start,
                slot.end,
                slot.visit_type,
                status,
                reason.id,
                slot.location,
                cipher.encrypt(notes, appointment_id.bytes) if notes else None,
                doctor["consultation_fee"],
                doctor["currency"],
                "patient" if cancelled else None,
                "Empêchement" if cancelled else None,
                slot.start - timedelta(days=rng.randint(1, 20)),
            )
        )
        return


def _plan_doctor(
    plan: _Plan, cipher: FieldCipher, doctor: Any, patients: list[Any], demo_patient: Any
) -> None:
    rng = random.Random(doctor["id"].int)
    availability = _agenda(doctor, rng, plan)
    index = 0
    visits = [(-rng.randint(1, PAST_DAYS)) for _ in range(rng.randint(*PAST_PER_DOCTOR))]
    visits += [rng.randint(1, FUTURE_DAYS) for _ in range(rng.randint(*FUTURE_PER_DOCTOR))]
    for offset in visits:
        patient = rng.choice(patients)
        _book(plan, cipher, rng, doctor, availability, patient["id"], offset, index)
        index += 1
    if demo_patient is None:
        return
    # The demo doctor always sees the demo patient; a few other doctors do too.
    if doctor["email"] == DEMO_DOCTOR_EMAIL:
        offsets = [-3, -17, -40, 2, 6, 13]
    elif rng.random() < 0.05:
        offsets = [-rng.randint(5, PAST_DAYS), rng.randint(2, FUTURE_DAYS)]
    else:
        offsets = []
    for offset in offsets:
        _book(plan, cipher, rng, doctor, availability, demo_patient["id"], offset, index)
        index += 1


async def seed_schedules(engines: Engines) -> None:
    cipher = FieldCipher(engines.settings)
    async with engines.pool.acquire() as con, con.transaction():
        await store.lock_seed(con)
        doctors = await store.doctors_without_rules(con)
        patients = await store.bookable_patients(con)
        if not doctors:
            log.info("demo schedules ready", extra={"added": 0})
            return
        demo_patient = next((p for p in patients if p["email"] == DEMO_PATIENT_EMAIL), None)
        plan = _Plan()
        for doctor in doctors:
            if patients:
                _plan_doctor(plan, cipher, doctor, patients, demo_patient)
            else:
                _agenda(doctor, random.Random(doctor["id"].int), plan)
        await store.copy_rules(con, plan.rules)
        await store.copy_exceptions(con, plan.exceptions)
        await store.copy_reasons(con, plan.reasons)
        await store.insert_appointments(con, plan.appointments)
        versions = await bump_versions(con, [d["id"] for d in doctors])
        for doctor_id, version in versions.items():
            await emit_availability(con, doctor_id, version, actor=None)
    log.info(
        "demo schedules ready",
        extra={"doctors": len(doctors), "appointments": len(plan.appointments)},
    )
