"""The cancellation policy of a visit reason (shown before booking, quoted at cancelling, a
reason asked when the policy says so) and the practice's settings (offer hold time)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx

from server import clock
from server.settings import Settings
from tests.factories import Doctor, make_patient
from tests.server.scheduling.helpers import (
    availability,
    booked,
    doctor_with_availability,
    local,
)
from tests.server.waitlist.helpers import WAITLIST, join, offer_for


def _reason(required: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": "Suivi",
        "duration_minutes": 30,
        "visit_types": ["in-person"],
        "refund_cutoff_hours": 72,
        "late_refund_percent": 25,
        "cancel_reason_required": required,
        **extra,
    }


async def _doctor(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, required: str
) -> tuple[Doctor, str]:
    doctor = await doctor_with_availability(
        client, db, settings, availability(reasons=[_reason(required)])
    )
    saved = await client.get(f"/api/v1/doctors/{doctor.id}/availability")
    reason = saved.json()["reasons"][0]
    assert reason["cancel_reason_required"] == required and reason["refund_cutoff_hours"] == 72
    return doctor, reason["id"]


async def test_the_policy_is_readable_before_booking(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, reason_id = await _doctor(client, db, settings, "late")
    url = f"{WAITLIST}/doctors/{doctor.id}/cancellation-policy"
    policy = (await client.get(url, params={"reason_id": reason_id})).json()
    assert policy["refund_cutoff_hours"] == 72 and policy["late_refund_percent"] == 25
    assert policy["reason_required"] == "late" and policy["prepay_required"] is False
    default = (await client.get(url)).json()
    assert default["refund_cutoff_hours"] == 48 and default["reason_required"] == "never"


async def test_a_late_cancellation_asks_a_reason_when_the_policy_says_so(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, reason_id = await _doctor(client, db, settings, "late")
    patient = await make_patient(db, settings)
    late = await booked(client, patient, doctor, local(doctor, 2, "10:00"), reason_id=reason_id)
    early = await booked(client, patient, doctor, local(doctor, 10, "10:00"), reason_id=reason_id)

    quote = await client.get(
        f"{WAITLIST}/appointments/{late['id']}/cancellation", headers=patient.user.headers
    )
    assert quote.status_code == 200, quote.text
    assert quote.json()["late"] is True and quote.json()["reason_required"] is True
    assert quote.json()["refund"] == 0 and quote.json()["paid"] == 0
    refused = await client.post(
        f"/api/v1/appointments/{late['id']}/cancel", json={}, headers=patient.user.headers
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["code"] == "cancel-reason-required"
    assert refused.json()["errors"][0]["field"] == "reason"
    also = await client.delete(f"/api/v1/appointments/{late['id']}", headers=patient.user.headers)
    assert also.status_code == 422
    given = await client.post(
        f"/api/v1/appointments/{late['id']}/cancel",
        json={"reason": "fièvre"},
        headers=patient.user.headers,
    )
    assert given.status_code == 200, given.text

    early_quote = await client.get(
        f"{WAITLIST}/appointments/{early['id']}/cancellation", headers=patient.user.headers
    )
    assert early_quote.json()["late"] is False and early_quote.json()["reason_required"] is False
    plain = await client.post(
        f"/api/v1/appointments/{early['id']}/cancel", json={}, headers=patient.user.headers
    )
    assert plain.status_code == 200, plain.text
    figures = await client.get(
        f"{WAITLIST}/doctors/{doctor.id}/reliability", headers=doctor.user.headers
    )
    assert figures.json()["late_cancellations"] == 1


async def test_always_asks_a_reason_and_the_doctor_cancels_freely(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, reason_id = await _doctor(client, db, settings, "always")
    patient = await make_patient(db, settings)
    far = await booked(client, patient, doctor, local(doctor, 10, "10:00"), reason_id=reason_id)
    refused = await client.post(
        f"/api/v1/appointments/{far['id']}/cancel", json={}, headers=patient.user.headers
    )
    assert refused.status_code == 422
    by_doctor = await client.post(
        f"/api/v1/appointments/{far['id']}/cancel", json={}, headers=doctor.user.headers
    )
    assert by_doctor.status_code == 200, by_doctor.text
    stranger = await make_patient(db, settings)
    hidden = await client.get(
        f"{WAITLIST}/appointments/{far['id']}/cancellation", headers=stranger.user.headers
    )
    assert hidden.status_code == 404


async def test_the_offer_hold_time_is_the_practice_setting_within_bounds(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    other = await doctor_with_availability(client, db, settings)
    url = f"{WAITLIST}/doctors/{doctor.id}/settings"
    read = await client.get(url, headers=doctor.user.headers)
    assert read.json() == {
        "doctor_id": str(doctor.id),
        "offer_minutes": 10,
        "prepay_no_show_threshold": None,
    }
    for wrong in (1, 61):
        bad = await client.put(url, json={"offer_minutes": wrong}, headers=doctor.user.headers)
        assert bad.status_code == 422
    assert (await client.get(url, headers=other.user.headers)).status_code == 404
    saved = await client.put(
        url, json={"offer_minutes": 3, "prepay_no_show_threshold": 2}, headers=doctor.user.headers
    )
    assert saved.status_code == 200 and saved.json()["offer_minutes"] == 3

    waiting, canceller = [await make_patient(db, settings) for _ in range(2)]
    taken = await booked(client, canceller, doctor, local(doctor, 2, "10:00"))
    await join(client, waiting, doctor)
    await client.post(f"/api/v1/appointments/{taken['id']}/cancel", headers=canceller.user.headers)
    offer = await offer_for(client, waiting)
    held_for = datetime.fromisoformat(offer["expires_at"]) - clock.now()
    assert timedelta(minutes=2) < held_for <= timedelta(minutes=3)


async def test_a_reason_that_is_not_the_doctors_is_refused_not_answered_with_defaults(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """Found by hand: any reason_id (another doctor's, or none at all) got the defaults back
    under that id, e.g. `reason_required: never` for another practice's `always` reason."""
    doctor, _ = await _doctor(client, db, settings, "late")
    other, theirs = await _doctor(client, db, settings, "always")
    url = f"{WAITLIST}/doctors/{doctor.id}/cancellation-policy"
    for reason_id in (theirs, str(uuid.uuid4())):
        answer = await client.get(url, params={"reason_id": reason_id})
        assert answer.status_code == 422, answer.text
        assert answer.json()["code"] == "unknown-reason"
        assert [(e["field"], e["location"], e["code"]) for e in answer.json()["errors"]] == [
            ("reason_id", "query", "unknown_visit_reason")
        ]
    own = await client.get(
        f"{WAITLIST}/doctors/{other.id}/cancellation-policy", params={"reason_id": theirs}
    )
    assert own.status_code == 200 and own.json()["reason_required"] == "always"


async def test_an_invisible_reason_is_no_reason(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """Found by hand: a zero-width space (or a BOM, a tab...) passed for the reason the policy
    asks, since only whitespace was stripped."""
    doctor, reason_id = await _doctor(client, db, settings, "always")
    patient = await make_patient(db, settings)
    visit = await booked(client, patient, doctor, local(doctor, 10, "10:00"), reason_id=reason_id)
    url = f"/api/v1/appointments/{visit['id']}/cancel"
    for blank in ("\u200b", "\ufeff \u200d", "\u2060\t\u00a0", " \u3000 "):
        refused = await client.post(url, json={"reason": blank}, headers=patient.user.headers)
        assert refused.status_code == 422, (blank, refused.text)
        assert [e["code"] for e in refused.json()["errors"]] == ["cancel-reason-required"]
    status = await db.fetchval(
        "SELECT status FROM scheduling.appointments WHERE id = $1::uuid", visit["id"]
    )
    assert status == "scheduled"
    said = await client.post(url, json={"reason": "\u200bfever"}, headers=patient.user.headers)
    assert said.status_code == 200, said.text


async def test_the_practice_counts_are_strict_integers_like_money_elsewhere(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """Found by testers: `offer_minutes: "10"` was taken for 10. Counts are JSON integers
    (as fees and amounts are): a string or a float is a 422 `int_type` on the field."""
    doctor = await doctor_with_availability(client, db, settings)
    url = f"{WAITLIST}/doctors/{doctor.id}/settings"
    for body, field in (
        ({"offer_minutes": "10"}, "offer_minutes"),
        ({"offer_minutes": 10.0}, "offer_minutes"),
        ({"prepay_no_show_threshold": "2"}, "prepay_no_show_threshold"),
    ):
        bad = await client.put(url, json=body, headers=doctor.user.headers)
        assert bad.status_code == 422, (body, bad.text)
        assert [(e["field"], e["code"]) for e in bad.json()["errors"]] == [(field, "int_type")]
    late = await client.put(
        f"{WAITLIST}/doctors/{doctor.id}/running-late",
        json={"minutes": "20"},
        headers=doctor.user.headers,
    )
    assert late.status_code == 422, late.text
    assert [(e["field"], e["code"]) for e in late.json()["errors"]] == [("minutes", "int_type")]
    assert (await client.get(url, headers=doctor.user.headers)).json()["offer_minutes"] == 10
