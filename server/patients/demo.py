"""Demo patients for `markini seed` / `serve --demo`: a few dozen accounts with profiles and some
(encrypted) medical history; patient@markini.test gets history and favorites too.

Runs after the doctors step (favorites point at demo doctors). Deterministic and idempotent.
"""

from __future__ import annotations

import logging
import random
import uuid
from datetime import date, timedelta
from typing import Any

from bus.events import PATIENT_CREATED
from server import clock
from server.auth.demo import DEMO_PASSWORD
from server.auth.passwords import hash_password
from server.crypto import FieldCipher
from server.doctors import demo_data as data
from server.doctors.demo import NAMESPACE, ascii_slug
from server.engines import Engines
from server.patients.events import emit_changed
from storage import demo as store
from storage import patients as patient_store

log = logging.getLogger(__name__)

DEMO_PATIENTS = 40
DEMO_PATIENT_EMAIL = "patient@markini.test"
RANDOM_SEED = 20240502
CONDITIONS = (
    ("Asthme", "Ventoline à la demande."),
    ("Hypertension artérielle", "Amlodipine 5 mg le matin."),
    ("Diabète de type 2", "Metformine 500 mg matin et soir."),
    ("Migraine", None),
    ("Allergie aux pénicillines", "Urticaire en 2015."),
    ("Hypothyroïdie", "Lévothyrox 75 µg."),
    ("Lombalgie chronique", "Kinésithérapie deux fois par semaine."),
    ("Eczéma atopique", None),
)


def _demo_patient(index: int, rng: random.Random) -> tuple[str, list[Any]]:
    female = rng.random() < 0.5
    first = rng.choice(data.FIRST_NAMES_F if female else data.FIRST_NAMES_M)
    last = rng.choice(data.LAST_NAMES)
    city = rng.choice([c for c in data.CITIES if c.country == "FR"])
    born = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 65))
    address = {
        "line1": f"{rng.randint(1, 150)} {rng.choice(data.STREETS)}",
        "line2": "",
        "city": city.name,
        "postcode": rng.choice(city.postcodes),
        "country": "FR",
    }
    phone = f"+336{rng.randrange(10_000_000, 99_999_999)}"
    email = f"{ascii_slug(first)}.{ascii_slug(last)}.{index:02d}@demo.markini.test"
    row: list[Any] = [
        uuid.uuid5(NAMESPACE, f"patient:{index}"),
        uuid.uuid5(NAMESPACE, email),
        first,
        last,
        born,
        "female" if female else "male",
        phone,
        address,
    ]
    return email, row


def _history(
    cipher: FieldCipher, rng: random.Random, patient_id: uuid.UUID, count: int
) -> list[tuple[Any, ...]]:
    aad = patient_id.bytes  # as server.patients.history binds every entry to its patient
    entries = []
    for condition, notes in rng.sample(CONDITIONS, count):
        diagnosed = date(2005, 1, 1) + timedelta(days=rng.randrange(0, 365 * 18))
        encrypted_notes = cipher.encrypt(notes, aad) if notes else None
        entries.append((patient_id, cipher.encrypt(condition, aad), diagnosed, encrypted_notes))
    return entries


async def seed_patients(engines: Engines) -> None:
    rng = random.Random(RANDOM_SEED)
    cipher = FieldCipher(engines.settings)
    generated = [_demo_patient(i, rng) for i in range(DEMO_PATIENTS)]
    counts = [rng.randint(0, 3) for _ in generated]
    async with engines.pool.acquire() as con, con.transaction():
        await store.lock_seed(con)
        existing = await store.existing_patient_ids(con, [row[0] for _, row in generated])
        missing = [(e, row, n) for (e, row), n in zip(generated, counts, strict=True)]
        missing = [item for item in missing if item[1][0] not in existing]
        history: list[tuple[Any, ...]] = []
        if missing:
            password_hash = await hash_password(DEMO_PASSWORD)
            users = [(row[1], email, password_hash, "patient") for email, row, _ in missing]
            await store.insert_demo_users(con, users, clock.now())
            await store.insert_demo_patients(con, [row for _, row, _ in missing], clock.now())
            for _, row, n in missing:
                history += _history(cipher, rng, row[0], n)
                await emit_changed(con, PATIENT_CREATED, row[0])
        history += await _demo_account_extras(con, cipher, rng)
        await store.insert_demo_history(con, history, clock.now())
    log.info("demo patients ready", extra={"added": len(missing), "total": DEMO_PATIENTS})


async def _demo_account_extras(
    con: Any, cipher: FieldCipher, rng: random.Random
) -> list[tuple[Any, ...]]:
    """patient@markini.test: two favorite doctors and, once, some history to look at."""
    user_id = await store.user_id_by_email(con, DEMO_PATIENT_EMAIL)
    patient_id = await patient_store.patient_id_for_user(con, user_id) if user_id else None
    if patient_id is None:
        return []
    for index in (0, 1):
        doctor_id = uuid.uuid5(NAMESPACE, f"doctor:{index}")
        if await store.existing_doctor_ids(con, [doctor_id]):
            await patient_store.add_favorite(con, patient_id, doctor_id, clock.now())
    if await patient_store.count_history(con, patient_id):
        return []
    return _history(cipher, rng, patient_id, 2)
