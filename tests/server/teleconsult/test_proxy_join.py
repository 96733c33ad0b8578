"""Either parent joins the video consultation booked for their child (issue #24); a revoked
proxy or a stranger cannot."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import httpx
import pytest

from server import clock
from server.settings import Settings
from tests.factories import make_doctor, make_patient
from tests.server.patients.test_relatives import add, link
from tests.server.scheduling.helpers import (
    availability,
    book,
    every_day,
    local,
    move_to,
    put_availability,
)
from tests.signaling.helpers import SESSION_API, open_session

pytestmark = pytest.mark.engines


async def test_both_parents_join_the_childs_consultation_and_a_stranger_does_not(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    await put_availability(
        client, doctor, availability(every_day(visit_type="teleconsultation"), notice=0)
    )
    parent, other_parent, former, stranger = [await make_patient(db, settings) for _ in range(4)]
    lea = await add(client, parent)
    await link(db, other_parent, lea["id"])
    await link(db, former, lea["id"], revoked=True)
    booked = await book(
        client,
        parent,
        doctor,
        local(doctor, 2, "10:00"),
        visit_type="teleconsultation",
        patient_id=lea["id"],
    )
    assert booked.status_code == 201, booked.text
    appointment_id = booked.json()["id"]
    confirmed = await client.post(
        f"/api/v1/appointments/{appointment_id}/confirm", headers=doctor.user.headers
    )
    assert confirmed.status_code == 200, confirmed.text
    await move_to(db, appointment_id, clock.now() + timedelta(minutes=5))
    session_id = await open_session(client, doctor, appointment_id)

    for proxy in (parent, other_parent):
        joined = await client.post(f"{SESSION_API}/{session_id}/join", headers=proxy.user.headers)
        assert joined.status_code == 200, joined.text
    for outsider in (former, stranger):
        refused = await client.post(
            f"{SESSION_API}/{session_id}/join", headers=outsider.user.headers
        )
        assert refused.status_code in (403, 404), refused.text
