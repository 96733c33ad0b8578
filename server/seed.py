"""Demo data for `markini seed` and `markini serve --demo`; every step is idempotent."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from server.auth.demo import seed_users
from server.doctors.demo import seed_doctors
from server.doctors.demo_reviews import seed_reviews
from server.engines import Engines
from server.patients.demo import seed_patients
from server.scheduling.demo import seed_schedules

log = logging.getLogger(__name__)


async def seed_demo(engines: Engines) -> None:
    # Each domain contributes one step, in dependency order: schedules book between doctors and
    # patients; reviews rest on the completed visits that schedules made.
    steps: list[Callable[[Engines], Awaitable[None]]] = [
        seed_users,
        seed_doctors,
        seed_patients,
        seed_schedules,
        seed_reviews,
    ]
    for step in steps:
        await step(engines)
    log.info("demo data ready")
