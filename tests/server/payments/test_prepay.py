"""Prepayment above a no-show threshold (issue #22): a pay-at-visit reason books at once, until
the patient's no-shows with the practice reach its threshold; then the booking is held for the
checkout like any paid visit."""

from __future__ import annotations

import asyncpg
import httpx

from server.settings import Settings
from tests.factories import make_patient
from tests.server.scheduling.helpers import availability, book, doctor_with_availability, local

REASON = {
    "name": "Contrôle",
    "duration_minutes": 30,
    "visit_types": ["in-person"],
    "pay_at_visit": True,
}


async def test_a_patient_past_the_no_show_threshold_pays_a_pay_at_visit_reason_first(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings
) -> None:
    doctor = await doctor_with_availability(
        paying, db, paying_settings, availability(reasons=[REASON])
    )
    reason_id = (await paying.get(f"/api/v1/doctors/{doctor.id}/availability")).json()["reasons"][
        0
    ]["id"]
    reliable, absent = [await make_patient(db, paying_settings) for _ in range(2)]
    saved = await paying.put(
        f"/api/v1/waitlist/doctors/{doctor.id}/settings",
        json={"offer_minutes": 10, "prepay_no_show_threshold": 1},
        headers=doctor.user.headers,
    )
    assert saved.status_code == 200, saved.text
    missed = await book(paying, absent, doctor, local(doctor, 5, "09:00"), reason_id=reason_id)
    assert missed.json()["status"] == "scheduled"
    await db.execute(
        "UPDATE scheduling.appointments SET status = 'no-show' WHERE id = $1",
        missed.json()["id"],
    )

    at_visit = await book(paying, reliable, doctor, local(doctor, 2, "10:00"), reason_id=reason_id)
    assert at_visit.status_code == 201 and at_visit.json()["status"] == "scheduled"
    policy = await paying.get(
        f"/api/v1/waitlist/doctors/{doctor.id}/cancellation-policy",
        params={"reason_id": reason_id},
        headers=absent.user.headers,
    )
    assert policy.json()["pay_at_visit"] is True and policy.json()["prepay_required"] is True
    prepaid = await book(paying, absent, doctor, local(doctor, 2, "11:00"), reason_id=reason_id)
    assert prepaid.status_code == 201, prepaid.text
    assert prepaid.json()["status"] == "held" and prepaid.json()["hold_expires_at"] is not None
    plain = await book(paying, reliable, doctor, local(doctor, 2, "12:00"))
    assert plain.json()["status"] == "held"  # no pay-at-visit reason: paid online as before
