"""Demo doctors for `markini seed` / `serve --demo`: a few hundred verified doctors across Europe
(and a couple in London and New York, for time zones), plus a profile for doctor@markini.test.

Deterministic (fixed random seed, uuid5 ids) and idempotent: a second run inserts nothing. Every
new doctor gets a doctor.created event so the search index picks it up like any other. The demo
accounts share the demo password (one hash for all: hashing 300 times would cost seconds).
"""

from __future__ import annotations

import logging
import random
import unicodedata
import uuid
from typing import Any

from bus.events import DOCTOR_CREATED
from server import clock
from server.auth import service as auth_service
from server.auth.demo import DEMO_PASSWORD
from server.auth.passwords import hash_password
from server.doctors import demo_data as data
from server.doctors.events import emit_changed
from server.engines import Engines
from storage import demo as store
from storage import doctors as doctor_store

log = logging.getLogger(__name__)

DEMO_DOCTORS = 300
DEMO_DOCTOR_EMAIL = "doctor@markini.test"
# Fixed namespace: the same demo doctor gets the same ids on every machine and every run.
NAMESPACE = uuid.UUID("5d2c7f0e-6a0b-4bb1-9a57-6d6172696e69")
RANDOM_SEED = 20240501
# About 4 km around the city centre: doctors spread over the city, not stacked on one point.
JITTER_DEG = 0.04


def ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


def _specialties(rng: random.Random) -> list[str]:
    codes = [c for c, _ in data.SPECIALTY_WEIGHTS]
    weights = [w for _, w in data.SPECIALTY_WEIGHTS]
    first = rng.choices(codes, weights)[0]
    seconds = data.SECOND_SPECIALTY.get(first, ())
    if seconds and rng.random() < 0.25:
        return [first, rng.choice(seconds)]
    return [first]


def _languages(rng: random.Random, city: data.City) -> list[str]:
    spoken = ["en"] if city.english else ["fr"]
    if city.english and rng.random() < 0.4:
        spoken.append("es" if city.country == "US" else "fr")
    for _ in range(rng.choice((0, 1, 1, 2))):
        extra = rng.choice(data.EXTRA_LANGUAGES)
        if extra not in spoken:
            spoken.append(extra)
    return spoken


def _bio(
    city: data.City, specialty: dict[str, str], years: int, languages: list[str], accepts: bool
) -> str:
    if city.english:
        names = ", ".join(data.LANGUAGE_NAMES_EN[code] for code in languages)
        accepting = "Accepting new patients." if accepts else "Not taking new patients."
        return data.BIO_EN.format(
            specialty=specialty["name_en"],
            city=city.name,
            years=years,
            languages=names,
            accepting=accepting,
        )
    names = ", ".join(data.LANGUAGE_NAMES_FR[code] for code in languages)
    accepting = (
        "Accepte de nouveaux patients." if accepts else "Ne prend plus de nouveaux patients."
    )
    return data.BIO_FR.format(
        specialty=specialty["name_fr"],
        city=city.name,
        years=years,
        languages=names,
        accepting=accepting,
    )


def demo_doctor(
    index: int, rng: random.Random, catalogue: dict[str, dict[str, str]]
) -> tuple[str, list[Any]]:
    """(email, row for storage.demo.insert_demo_doctors without user_id filled in)."""
    city = rng.choices(data.CITIES, [c.weight for c in data.CITIES])[0]
    if city.english:
        first, last = rng.choice(data.ENGLISH_FIRST), rng.choice(data.ENGLISH_LAST)
        street = rng.choice(data.ENGLISH_STREETS)
    else:
        first = rng.choice(data.FIRST_NAMES_F if rng.random() < 0.55 else data.FIRST_NAMES_M)
        last, street = rng.choice(data.LAST_NAMES), rng.choice(data.STREETS)
    specialties = _specialties(rng)
    low, high = data.FEE_RANGES.get(specialties[0], data.DEFAULT_FEE_RANGE)
    fee = rng.randrange(low, high + 1, 100)
    years = rng.randint(2, 38)
    languages = _languages(rng, city)
    accepts = rng.random() < 0.85
    email = f"dr.{ascii_slug(first)}.{ascii_slug(last)}.{index:03d}@demo.markini.test"
    row: list[Any] = [
        uuid.uuid5(NAMESPACE, f"doctor:{index}"),
        None,  # user_id
        first,
        last,
        specialties,
        f"DEMO-{10_000_000_000 + index * 7919}",  # RPPS-like, unique per demo doctor
        years,
        fee,
        city.currency,
        _bio(city, catalogue[specialties[0]], years, languages, accepts),
        languages,
        f"{rng.randint(1, 150)} {street}",
        city.name,
        rng.choice(city.postcodes),
        city.country,
        round(city.latitude + rng.uniform(-JITTER_DEG, JITTER_DEG), 6),
        round(city.longitude + rng.uniform(-JITTER_DEG, JITTER_DEG) * 1.5, 6),
        city.time_zone,
        accepts,
    ]
    return email, row


def own_demo_profile(user_id: uuid.UUID) -> list[Any]:
    """doctor@markini.test: a Paris GP open to new patients, so the demo can book with her."""
    return [
        uuid.uuid5(NAMESPACE, DEMO_DOCTOR_EMAIL), user_id, "Claire", "Lefèvre",
        ["general-practice", "sports-medicine"], "DEMO-00000000001", 14, 3000, "EUR",
        "Médecine générale et médecine du sport à Paris. Consultations en français, anglais.",
        ["fr", "en"], "27 rue Oberkampf", "Paris", "75011", "FR", 48.8649, 2.3736,
        "Europe/Paris", True,
    ]  # fmt: skip


async def seed_doctors(engines: Engines) -> None:
    rng = random.Random(RANDOM_SEED)
    async with engines.pool.acquire() as con:
        catalogue = {r["code"]: dict(r) for r in await doctor_store.list_specializations(con)}
    generated = [demo_doctor(i, rng, catalogue) for i in range(DEMO_DOCTORS)]
    async with engines.pool.acquire() as con, con.transaction():
        await store.lock_seed(con)
        existing = await store.existing_doctor_ids(con, [row[0] for _, row in generated])
        missing = [(email, row) for email, row in generated if row[0] not in existing]
        rows = []
        if missing:
            password_hash = await hash_password(DEMO_PASSWORD)
            users = []
            for email, row in missing:
                user_id = uuid.uuid5(NAMESPACE, email)
                users.append((user_id, email, password_hash, "doctor"))
                rows.append([row[0], user_id, *row[2:]])
            await store.insert_demo_users(con, users, clock.now())
        own_user = await store.user_id_by_email(con, DEMO_DOCTOR_EMAIL)
        if own_user is not None and await doctor_store.doctor_id_for_user(con, own_user) is None:
            rows.append(own_demo_profile(own_user))
            await auth_service.set_verified(con, own_user, True, clock.now())
        await store.insert_demo_doctors(con, rows, clock.now())
        for row in rows:
            await emit_changed(con, DOCTOR_CREATED, row[0])
    log.info("demo doctors ready", extra={"added": len(rows), "total": DEMO_DOCTORS})
