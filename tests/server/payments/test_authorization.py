"""Every payment endpoint × role: the payer, another patient, the doctor paid, another doctor,
an admin and nobody; and bad input is a 4xx problem, never a 5xx."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import httpx
import pytest

from server import clock
from server.settings import Settings
from tests.factories import make_doctor, make_patient, make_user
from tests.server.payments.test_payments import PAYMENTS, held_slot, pay

ROLES = ("payer", "other_patient", "doctor", "other_doctor", "admin", "nobody")


async def test_every_endpoint_answers_each_role_as_it_should(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings
) -> None:
    doctor, patient, held = await held_slot(paying, db, paying_settings)
    payment = (await pay(paying, paying_settings, patient, held["id"])).json()
    headers = {
        "payer": patient.user.headers,
        "other_patient": (await make_patient(db, paying_settings)).user.headers,
        "doctor": doctor.user.headers,
        "other_doctor": (await make_doctor(db, paying_settings)).user.headers,
        "admin": (await make_user(db, paying_settings, "admin")).headers,
        "nobody": {},
    }
    now = clock.now()
    window = {
        "from": (now - timedelta(days=1)).isoformat(),
        "to": (now + timedelta(days=1)).isoformat(),
    }
    pid = payment["id"]
    expected: list[
        tuple[str, str, dict[str, object] | None, dict[str, object], tuple[int, ...]]
    ] = [
        ("GET", f"{PAYMENTS}/{pid}", None, {}, (200, 404, 200, 404, 200, 401)),
        ("GET", f"{PAYMENTS}/{pid}/invoice", None, {}, (200, 404, 200, 404, 200, 401)),
        ("GET", f"{PAYMENTS}/patient/{patient.id}", None, {}, (200, 403, 403, 403, 200, 401)),
        ("GET", f"{PAYMENTS}/doctor/{doctor.id}", None, {}, (403, 403, 200, 403, 200, 401)),
        ("GET", f"{PAYMENTS}/revenue", None, window, (403, 403, 403, 403, 200, 401)),
        # Refund 1 minor unit: allowed for the doctor and the admin only.
        ("POST", f"{PAYMENTS}/{pid}/refund", {"amount": 1}, {}, (403, 404, 200, 404, 200, 401)),
        # Paying an appointment that is no longer held: 409 for its payer only.
        (
            "POST",
            PAYMENTS,
            {"appointment_id": held["id"], "payment_method": "tok_visa"},
            {},
            (409, 404, 403, 404, 403, 401),
        ),
    ]
    for method, url, body, params, statuses in expected:
        for role, status in zip(ROLES, statuses, strict=True):
            response = await paying.request(
                method, url, json=body, params=params, headers=headers[role]
            )
            assert response.status_code == status, (method, url, role, response.text)
    downloads = await db.fetch(
        "SELECT action, response_status FROM audit.logs WHERE resource_type IN "
        "('invoice', 'payment') AND action LIKE 'invoice.%' ORDER BY seq"
    )
    assert [(r["action"], r["response_status"]) for r in downloads] == [
        ("invoice.download", 200),
        ("invoice.download_refused", 404),
        ("invoice.download", 200),
        ("invoice.download_refused", 404),
        ("invoice.download", 200),
    ]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"appointment_id": "not-a-uuid", "payment_method": "tok_x"},
        {"appointment_id": "00000000-0000-0000-0000-000000000000", "payment_method": "x"},
        {"appointment_id": "00000000-0000-0000-0000-000000000000", "payment_method": "tok_nope"},
        {
            "appointment_id": "00000000-0000-0000-0000-000000000000",
            "payment_method": "tok_a",
            "amount": -5,
        },
        {
            "appointment_id": "00000000-0000-0000-0000-000000000000",
            "payment_method": "tok_a",
            "extra": 1,
        },
    ],
)
async def test_bad_payment_requests_are_4xx_problems(
    paying: httpx.AsyncClient,
    db: asyncpg.Connection,
    paying_settings: Settings,
    body: dict[str, object],
) -> None:
    patient = await make_patient(db, paying_settings)

    response = await paying.post(PAYMENTS, json=body, headers=patient.user.headers)

    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert await db.fetchval("SELECT count(*) FROM payments.payments") == 0


async def test_an_unknown_card_token_fails_the_attempt_with_a_402_not_a_500(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings
) -> None:
    _, patient, held = await held_slot(paying, db, paying_settings)

    response = await paying.post(
        PAYMENTS,
        json={"appointment_id": held["id"], "payment_method": "tok_doesnotexist"},
        headers=patient.user.headers,
    )

    assert response.status_code == 402, response.text
    assert await db.fetchval("SELECT status FROM payments.payments") == "failed"
