"""doctor.availability.updated: patients who keep the doctor among their favourites hear that
new times may be open (in the bell and by email), at most once a day per doctor."""

from __future__ import annotations

import uuid

import asyncpg

from bus import events
from bus.events import Envelope
from server import clock
from server.notifications.notifier import Outgoing, notify
from server.settings import Settings
from storage.notify.parties import favourite_patients

AVAILABILITY_TYPES = frozenset({events.DOCTOR_AVAILABILITY_UPDATED})


async def apply_availability_event(
    con: asyncpg.Connection, settings: Settings, envelope: Envelope
) -> None:
    doctor_id = uuid.UUID(str(envelope.data["doctor_id"]))
    now = clock.now()
    doctor_name, patients = await favourite_patients(con, doctor_id)
    link = f"{settings.public_url.rstrip('/')}/doctors/{doctor_id}"
    # One a day per doctor, however often the doctor edits the week.
    cause = f"availability:{doctor_id}:{now.date().isoformat()}"
    for person in patients:
        await notify(
            con,
            Outgoing(
                cause,
                "doctor.availability",
                person,
                {"other": doctor_name, "link": link},
                data={"doctor_id": str(doctor_id)},
            ),
            now,
        )
