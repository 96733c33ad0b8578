"""Demo accounts (one per role) for `markini seed` / `serve --demo`; safe to run again."""

from __future__ import annotations

import logging
from typing import Literal

from server import clock
from server.auth.passwords import hash_password
from server.engines import Engines
from server.patients import accounts as patient_accounts
from storage import auth as store

log = logging.getLogger(__name__)

# Published in the README: demo data is for laptops, never for a real deployment.
DEMO_PASSWORD = "markini-demo-1"
DEMO_USERS: tuple[tuple[str, Literal["admin", "patient", "doctor"]], ...] = (
    ("admin@markini.test", "admin"),
    ("patient@markini.test", "patient"),
    ("doctor@markini.test", "doctor"),
)
DEMO_PATIENT_NAME = ("Jeanne", "Martin")


async def seed_users(engines: Engines) -> None:
    """Create the demo accounts that are missing (verified, no MFA) and the demo patient profile.

    The doctor's profile belongs to the doctors domain's seed step, which finds the account by
    email. No events: demo rows are not news to anyone.
    """
    for email, role in DEMO_USERS:
        user = await store.user_by_email(engines.pool, email)
        if user is None:
            password_hash = await hash_password(DEMO_PASSWORD)
            user = await store.insert_user(
                engines.pool, email, password_hash, role, True, clock.now()
            )
            if user is None:  # another node seeded it meanwhile
                user = await store.user_by_email(engines.pool, email)
            log.info("demo user created", extra={"role": role})
        if role == "patient" and user is not None:
            async with engines.pool.acquire() as con, con.transaction():
                await patient_accounts.open_profile(con, user.id, *DEMO_PATIENT_NAME)
