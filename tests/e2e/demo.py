"""Demo-ish data for browser tests, made through the public API of the running server.

Doctors get an account, a verified profile, open hours every day and two visit reasons; the
search index is awaited, so a test opening the browser finds them at once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from server.settings import Settings
from tests.factories import make_user

PASSWORD = "correct horse battery staple"
# Slots every day from early to late, 30 minutes each, bookable at once (no notice).
OPEN_HOURS = [
    {
        "day_of_week": day,
        "start": "07:00",
        "end": "22:00",
        "slot_minutes": 30,
        "visit_type": "in-person",
    }
    for day in range(1, 8)
]
# Teleconsultations all day long, so that some slot starts within a joining window whatever
# the time (the window's own rules are tested in tests/signaling).
TELE_HOURS = [
    {
        "day_of_week": day,
        "start": "00:00",
        "end": "23:30",
        "slot_minutes": 30,
        "visit_type": "teleconsultation",
    }
    for day in range(1, 8)
]
REASONS = [
    {
        "name": "Consultation",
        "duration_minutes": 30,
        "visit_types": ["in-person", "teleconsultation"],
    },
    {"name": "Follow-up", "duration_minutes": 30, "visit_types": ["in-person"]},
]
INDEX_TIMEOUT_S = 30.0


@dataclass
class Account:
    email: str
    password: str
    user_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Patient:
    account: Account
    patient_id: str
    first_name: str
    last_name: str


@dataclass
class Doctor:
    account: Account
    id: str
    first_name: str
    last_name: str
    time_zone: str

    @property
    def name(self) -> str:
        return f"Dr {self.first_name} {self.last_name}"


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@example.test"


def _check(response: httpx.Response) -> Any:
    assert response.is_success, f"{response.request.method} {response.url}: {response.text}"
    return response.json() if response.content else None


class Demo:
    def __init__(self, http: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
        self.http = http
        self.admin_headers = admin_headers

    @classmethod
    @asynccontextmanager
    async def open(cls, url: str, settings: Settings, database_url: str) -> AsyncIterator[Demo]:
        con = await asyncpg.connect(database_url)
        try:
            admin = await make_user(con, settings, "admin")
        finally:
            await con.close()
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            yield cls(http, admin.headers)

    async def account(self, role: str, first: str, last: str) -> tuple[Account, dict[str, Any]]:
        email = _unique(role)
        body = {
            "email": email,
            "password": PASSWORD,
            "role": role,
            "first_name": first,
            "last_name": last,
        }
        registered = _check(await self.http.post("/api/v1/auth/register", json=body))
        tokens = _check(
            await self.http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        )
        account = Account(email, PASSWORD, tokens["user"]["id"], tokens["access_token"])
        return account, registered

    async def sign_in_again(self, account: Account) -> None:
        """A new access token for `account`, for servers with a short access-token lifetime."""
        body = {"email": account.email, "password": account.password}
        account.token = _check(await self.http.post("/api/v1/auth/login", json=body))[
            "access_token"
        ]

    async def patient(self, first: str = "Jeanne", last: str = "Martin") -> Patient:
        account, registered = await self.account("patient", first, last)
        return Patient(account, str(registered["patient_id"]), first, last)

    async def relative(self, parent: Patient, first: str, last: str) -> str:
        """A child `parent` manages (as its legal guardian, history not shared); its patient id."""
        added = await self.http.post(
            "/api/v1/me/relatives",
            json={
                "first_name": first,
                "last_name": last,
                "date_of_birth": "2019-02-03",
                "relationship": "CHILD",
                "consent_basis": "legal_guardian",
                "consent_given": True,
                "can_view_history": False,
            },
            headers=parent.account.headers,
        )
        assert added.status_code == 201, added.text
        return str(added.json()["id"])

    async def doctor(
        self,
        first: str = "Claire",
        last: str | None = None,
        *,
        specialty: str = "cardiology",
        city: str = "Paris",
        time_zone: str = "Europe/Paris",
        hours: list[dict[str, Any]] | None = None,
        exceptions: list[dict[str, Any]] | None = None,
    ) -> Doctor:
        last = last or f"Lefevre{uuid.uuid4().hex[:4]}"
        account, _ = await self.account("doctor", first, last)
        profile = {
            "first_name": first,
            "last_name": last,
            "specializations": [specialty],
            "license_number": f"LIC-{uuid.uuid4().hex[:10]}",
            "years_of_experience": 12,
            "consultation_fee": 3000,
            "currency": "EUR",
            "bio": "Cardiologist in Paris. Heart rhythm disorders, prevention, sports check-ups.",
            "languages": ["fr", "en"],
            "address_line": "12 rue de la Roquette",
            "city": city,
            "postcode": "75011",
            "latitude": 48.8589,
            "longitude": 2.3795,
            "time_zone": time_zone,
        }
        created = _check(
            await self.http.post("/api/v1/doctors", json=profile, headers=account.headers)
        )
        doctor = Doctor(account, created["id"], first, last, time_zone)
        _check(
            await self.http.post(
                f"/api/v1/admin/doctors/{doctor.id}/verify", headers=self.admin_headers
            )
        )
        availability = {
            "rules": hours if hours is not None else OPEN_HOURS,
            "exceptions": exceptions or [],
            "reasons": REASONS,
            "settings": {"min_notice_minutes": 0, "max_horizon_days": 60, "buffer_minutes": 0},
        }
        _check(
            await self.http.put(
                f"/api/v1/doctors/{doctor.id}/availability",
                json=availability,
                headers=account.headers,
            )
        )
        await self.wait_indexed(doctor)
        return doctor

    async def wait_indexed(self, doctor: Doctor) -> None:
        """The search index follows events: wait until the doctor shows with a next slot."""
        deadline = asyncio.get_running_loop().time() + INDEX_TIMEOUT_S
        while True:
            page = _check(
                await self.http.get("/api/v1/search/doctors", params={"q": doctor.last_name})
            )
            if any(hit["id"] == doctor.id and hit["next_available"] for hit in page["items"]):
                return
            assert asyncio.get_running_loop().time() < deadline, f"{doctor.name} never got indexed"
            await asyncio.sleep(0.2)

    async def slots(self, doctor: Doctor, days: int = 7) -> list[dict[str, Any]]:
        start = datetime.now(UTC)
        params = {
            "doctor_id": doctor.id,
            "from": start.isoformat(),
            "to": (start + timedelta(days=days)).isoformat(),
        }
        page = _check(await self.http.get("/api/v1/appointments/slots/available", params=params))
        return list(page["slots"])

    async def book(self, patient: Patient, doctor: Doctor, slot: dict[str, Any]) -> dict[str, Any]:
        body = {"doctor_id": doctor.id, "start": slot["start"], "visit_type": slot["visit_type"]}
        return dict(
            _check(
                await self.http.post(
                    "/api/v1/appointments", json=body, headers=patient.account.headers
                )
            )
        )

    async def reschedule(
        self, patient: Patient, appointment_id: str, slot: dict[str, Any]
    ) -> dict[str, Any]:
        return dict(
            _check(
                await self.http.post(
                    f"/api/v1/appointments/{appointment_id}/reschedule",
                    json={"start": slot["start"]},
                    headers=patient.account.headers,
                )
            )
        )

    async def cancel(self, patient: Patient, appointment_id: str) -> None:
        _check(
            await self.http.post(
                f"/api/v1/appointments/{appointment_id}/cancel",
                json={},
                headers=patient.account.headers,
            )
        )
