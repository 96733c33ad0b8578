"""Late cancellations (after the reason's cut-off) and no-shows, per patient of the practice."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import httpx

from server import clock
from server.settings import Settings
from tests.factories import make_patient
from tests.server.scheduling.helpers import (
    booked,
    doctor_with_availability,
    local,
    move_into_past,
    move_to,
)
from tests.server.waitlist.helpers import WAITLIST


async def test_late_cancellations_and_no_shows_are_counted_per_patient(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    late, punctual = [await make_patient(db, settings) for _ in range(2)]
    missed = await booked(client, late, doctor, local(doctor, 2, "10:00"))
    await move_into_past(db, missed["id"])
    marked = await client.post(
        f"/api/v1/appointments/{missed['id']}/no-show", headers=doctor.user.headers
    )
    assert marked.status_code == 200, marked.text
    # A patient's cancellation inside the cut-off (the API refuses it under the 24 h rule, which
    # is not the reason's refund cut-off): written as it would be stored.
    soon = await booked(client, late, doctor, local(doctor, 3, "10:00"))
    await move_to(db, soon["id"], clock.now() + timedelta(hours=2))
    await db.execute(
        """UPDATE scheduling.appointments SET status = 'cancelled', cancelled_by = 'patient',
               cancelled_at = $2 WHERE id = $1""",
        soon["id"],
        clock.now(),
    )
    early = await booked(client, punctual, doctor, local(doctor, 9, "10:00"))
    cancelled = await client.post(
        f"/api/v1/appointments/{early['id']}/cancel", headers=punctual.user.headers
    )
    assert cancelled.status_code == 200, cancelled.text

    url = f"{WAITLIST}/doctors/{doctor.id}/reliability"
    figures = (await client.get(url, headers=doctor.user.headers)).json()
    assert (figures["late_cancellations"], figures["no_shows"]) == (1, 1)
    assert [
        (p["patient_id"], p["late_cancellations"], p["no_shows"]) for p in figures["patients"]
    ] == [(str(late.id), 1, 1)]
    assert (await client.get(url, headers=late.user.headers)).status_code == 404


async def test_a_hold_dropped_before_payment_is_not_a_late_cancellation(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    """Leaving the checkout (or a waitlist offer) inside the cut-off drops a hold, never a
    booking: it does not count against the patient (nor towards the prepayment threshold)."""
    doctor = await doctor_with_availability(client, db, settings)
    dropper = await make_patient(db, settings)
    held = await booked(client, dropper, doctor, local(doctor, 3, "10:00"))
    await move_to(db, held["id"], clock.now() + timedelta(hours=2))
    # A paid visit's hold, given up in the checkout: stored as the cancel transition leaves it.
    await db.execute(
        """UPDATE scheduling.appointments SET status = 'cancelled', cancelled_by = 'patient',
               cancelled_at = $2, hold_expires_at = $3 WHERE id = $1""",
        held["id"],
        clock.now(),
        clock.now() + timedelta(minutes=10),
    )

    url = f"{WAITLIST}/doctors/{doctor.id}/reliability"
    figures = (await client.get(url, headers=doctor.user.headers)).json()
    assert (figures["late_cancellations"], figures["no_shows"], figures["patients"]) == (0, 0, [])
