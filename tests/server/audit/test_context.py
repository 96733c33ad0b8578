"""What an audit entry names as its resource, from the route template alone."""

from __future__ import annotations

import pytest

from server.audit.context import derive_resource
from server.audit.masking import is_sensitive_key


@pytest.mark.parametrize(
    ("template", "params", "expected"),
    [
        (
            "/api/v1/appointments/{appointment_id}/cancel",
            {"appointment_id": "a1"},
            ("appointment", "a1"),
        ),
        (
            "/api/v1/patients/{patient_id}/medical-history/{entry_id}",
            {"patient_id": "p", "entry_id": "e"},
            ("medical_history", "e"),
        ),
        ("/api/v1/doctors/{doctor_id}/availability", {"doctor_id": "d"}, ("doctor", "d")),
        ("/api/v1/admin/doctors/{doctor_id}/verify", {"doctor_id": "d"}, ("doctor", "d")),
        ("/api/v1/appointments", {}, ("appointment", None)),
        ("/api/v1/auth/login", {}, ("auth", None)),
        ("/api/v1/specialities/{code:path}", {"code": "x"}, ("speciality", "x")),
    ],
)
def test_innermost_identified_resource_is_named(
    template: str, params: dict[str, str], expected: tuple[str | None, str | None]
) -> None:
    assert derive_resource(template, params) == expected


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "new_password",
        "refreshToken",
        "client-secret",
        "mfa_code",
        "code",
        "notes",
        "Diagnosis",
        "chronic_conditions",
        "allergies",
        "insurance_info",
        "date_of_birth",
    ],
)
def test_secret_and_health_keys_are_masked(key: str) -> None:
    assert is_sensitive_key(key)


@pytest.mark.parametrize("key", ["email", "first_name", "country_code", "start", "visit_type"])
def test_ordinary_keys_are_kept(key: str) -> None:
    assert not is_sensitive_key(key)
