"""Test data made in the database, so a domain's tests need no other domain's routes.

Users get a live session and a real access token, exactly as a sign-in would produce.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from server import clock
from server.auth.principal import Role
from server.auth.tokens import hash_token, issue_access_token, new_opaque_token
from server.settings import Settings

# A valid argon2id hash of "correct horse battery staple" would cost ~50 ms per user; tests that
# sign in through the API create users through the API instead.
UNUSABLE_PASSWORD_HASH = "!unusable"


@dataclass
class User:
    id: uuid.UUID
    email: str
    role: Role
    token: str
    session_id: uuid.UUID

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Doctor:
    user: User
    id: uuid.UUID
    time_zone: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class Patient:
    user: User
    id: uuid.UUID


async def make_user(
    db: asyncpg.Connection, settings: Settings, role: Role, email: str | None = None
) -> User:
    email = email or f"{role}-{uuid.uuid4().hex[:8]}@example.test"
    user_id = await db.fetchval(
        """INSERT INTO auth.users (email, password_hash, role, is_verified)
           VALUES ($1, $2, $3, true) RETURNING id""",
        email,
        UNUSABLE_PASSWORD_HASH,
        role,
    )
    session_id = await db.fetchval(
        """INSERT INTO auth.sessions (user_id, token_hash, expires_at, reauthenticated_at)
           VALUES ($1, $2, $3, $4) RETURNING id""",
        user_id,
        hash_token(new_opaque_token()),
        clock.now() + timedelta(days=1),
        # Admins as if they had just re-entered their password (server/auth/administration.py).
        clock.now() if role == "admin" else None,
    )
    token = issue_access_token(settings, user_id, role, session_id)
    return User(user_id, email, role, token, session_id)


async def make_doctor(
    db: asyncpg.Connection,
    settings: Settings,
    *,
    verified: bool = True,
    time_zone: str = "Europe/Paris",
    **fields: Any,
) -> Doctor:
    user = await make_user(db, settings, "doctor")
    values: dict[str, Any] = {
        "first_name": "Claire",
        "last_name": "Lefèvre",
        "specializations": ["general-practice"],
        "license_number": f"LIC-{uuid.uuid4().hex[:10]}",
        "consultation_fee": 3000,
        "city": "Paris",
        "postcode": "75011",
        "latitude": 48.8589,
        "longitude": 2.3795,
        "languages": ["fr", "en"],
        **fields,
        "time_zone": time_zone,
        "verification_status": "verified" if verified else "unverified",
    }
    columns = ", ".join(values)
    params = ", ".join(f"${i}" for i in range(2, len(values) + 2))
    doctor_id = await db.fetchval(
        f"INSERT INTO doctors.doctors (user_id, {columns}) VALUES ($1, {params}) RETURNING id",
        user.id,
        *values.values(),
    )
    return Doctor(user, doctor_id, time_zone, values)


async def make_patient(db: asyncpg.Connection, settings: Settings, **fields: Any) -> Patient:
    user = await make_user(db, settings, "patient")
    patient_id = await db.fetchval(
        """INSERT INTO patients.patients (user_id, first_name, last_name, phone)
           VALUES ($1, $2, $3, $4) RETURNING id""",
        user.id,
        fields.get("first_name", "Jeanne"),
        fields.get("last_name", "Martin"),
        fields.get("phone", "+33600000000"),
    )
    return Patient(user, patient_id)


async def make_appointment(
    db: asyncpg.Connection,
    doctor: Doctor,
    patient: Patient,
    start: datetime,
    minutes: int = 30,
    status: str = "scheduled",
    **fields: Any,
) -> uuid.UUID:
    """An appointment row as booking would leave it (no event, no audit): for read-side tests."""
    values: dict[str, Any] = {
        "visit_type": "in-person",
        "fee": 3000,
        "currency": "EUR",
        "created_at": start - timedelta(days=2),
        **fields,
    }
    columns = ", ".join(values)
    params = ", ".join(f"${i}" for i in range(6, len(values) + 6))
    appointment_id: uuid.UUID = await db.fetchval(
        f"""INSERT INTO scheduling.appointments
                (id, doctor_id, patient_id, period, status, {columns})
            VALUES (gen_random_uuid(), $1, $2,
                    tstzrange($3::timestamptz, $3::timestamptz + make_interval(mins => $4)),
                    $5, {params})
            RETURNING id""",
        doctor.id,
        patient.id,
        start,
        minutes,
        status,
        *values.values(),
    )
    return appointment_id
