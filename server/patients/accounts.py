"""The patient profile that comes with a patient account (sign-up, demo accounts).

Separate from server.patients.service so the auth domain can call it without an import cycle
(the patients service uses the auth service for ownership and erasure).
"""

from __future__ import annotations

import uuid

import asyncpg

from bus.events import PATIENT_CREATED
from server import clock
from server.patients.events import emit_changed
from storage import patients as store


async def open_profile(
    con: asyncpg.Connection, user_id: uuid.UUID, first_name: str, last_name: str
) -> uuid.UUID | None:
    """Create the account's profile in the caller's transaction and announce it.

    Returns the new patient id, or None when the account already had a profile.
    """
    patient_id = await store.insert_profile_for_account(
        con, user_id, first_name, last_name, clock.now()
    )
    if patient_id is not None:
        await emit_changed(con, PATIENT_CREATED, patient_id, actor=str(user_id))
    return patient_id
