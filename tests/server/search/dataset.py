"""A small, known set of doctors around Paris and beyond, for read-only search tests.

Availability goes through the scheduling routes, so next free slots come from the real slot
generator: Lefèvre today (in person), Martin from day 3 (video), Dubois from day 10 (both).
"""

from __future__ import annotations

from typing import Any

from tests.factories import Doctor, make_doctor
from tests.server.scheduling.helpers import availability, every_day, put_availability
from tests.server.search.helpers import SearchEnv, reindex_now

PARIS = (48.8566, 2.3522)  # Hôtel de Ville

DOCTORS: dict[str, dict[str, Any]] = {
    "lefevre": dict(
        first_name="Claire",
        last_name="Lefèvre",
        specializations=["cardiology"],
        city="Paris",
        postcode="75011",
        latitude=48.8589,
        longitude=2.3795,
        consultation_fee=5000,
        rating=4.8,
        total_reviews=120,
        languages=["fr", "en"],
    ),
    "martin": dict(
        first_name="Jean",
        last_name="Martin",
        specializations=["dermatology"],
        city="Paris",
        postcode="75008",
        latitude=48.8728,
        longitude=2.3100,
        consultation_fee=3000,
        rating=4.2,
        total_reviews=40,
        languages=["fr"],
    ),
    "durand": dict(
        first_name="Paul",
        last_name="Durand",
        specializations=["general-practice"],
        city="Paris",
        postcode="75015",
        latitude=48.8412,
        longitude=2.3003,
        consultation_fee=2500,
        rating=3.9,
        total_reviews=12,
        languages=["fr"],
        bio="Trained beside Dr Lefèvre before opening a family practice.",
    ),
    "dubois": dict(
        first_name="Marc",
        last_name="Dubois",
        specializations=["cardiology", "sports-medicine"],
        city="Versailles",
        postcode="78000",
        latitude=48.8049,
        longitude=2.1204,
        consultation_fee=6000,
        rating=4.5,
        total_reviews=75,
        languages=["en"],
    ),
    "bernard": dict(
        first_name="Sophie",
        last_name="Bernard",
        specializations=["pediatrics"],
        city="Lyon",
        postcode="69002",
        latitude=45.7578,
        longitude=4.8320,
        consultation_fee=2500,
        rating=4.9,
        total_reviews=300,
        languages=["fr", "en", "es"],
        accepts_new_patients=False,
    ),
    "petit": dict(
        first_name="Nina",
        last_name="Petit",
        specializations=["general-practice"],
        city="Toulouse",
        postcode="31000",
        latitude=None,
        longitude=None,
        consultation_fee=3500,
        rating=4.0,
        total_reviews=8,
        languages=["fr"],
    ),
}
# Same name as a searchable doctor, but never verified: must never appear.
UNVERIFIED: dict[str, Any] = dict(
    first_name="Hélène",
    last_name="Lefèvre",
    specializations=["cardiology"],
    city="Paris",
    postcode="75011",
    latitude=48.8590,
    longitude=2.3790,
    consultation_fee=1000,
)
NAMES = {key: f"{d['first_name']} {d['last_name']}" for key, d in DOCTORS.items()}
DAY = 24 * 60


async def seed(env: SearchEnv) -> dict[str, Doctor]:
    doctors = {key: await make_doctor(env.db, env.settings, **f) for key, f in DOCTORS.items()}
    await make_doctor(env.db, env.settings, verified=False, **UNVERIFIED)
    video = every_day(visit_type="teleconsultation")
    await put_availability(env.client, doctors["lefevre"], availability(notice=0))
    await put_availability(env.client, doctors["martin"], availability(video, notice=3 * DAY))
    both = every_day(end="12:00") + every_day(
        start="14:00", end="18:00", visit_type="teleconsultation"
    )
    await put_availability(env.client, doctors["dubois"], availability(both, notice=10 * DAY))
    await reindex_now(env.settings)
    return doctors
