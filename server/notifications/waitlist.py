"""waitlist.offered: the offered patient (or the proxy who joined for a relative) hears of the
held slot in the bell (live) and by email and SMS (it is time-bound: the slot passes on at
`expires_at`). A proxy reads whom it is held for (the relative, by name), and only while
it still acts for them: a link revoked before the event is handled means nobody hears."""

from __future__ import annotations

import asyncpg

from bus import events
from bus.events import Envelope
from server import clock
from server.notifications.notifier import Outgoing, notify
from server.notifications.templating import when
from server.settings import Settings
from server.waitlist.events import WaitlistOffered
from storage.notify.parties import (
    doctor_name_and_zone,
    patient_name_and_login,
    user_recipient,
)

WAITLIST_TYPES = frozenset({events.WAITLIST_OFFERED})


async def apply_waitlist_event(
    con: asyncpg.Connection, settings: Settings, envelope: Envelope
) -> None:
    offer = WaitlistOffered.model_validate(envelope.data)
    # Who acts for the patient when the event is handled, not when it was made.
    person = await user_recipient(con, offer.patient_user_id, acting_for=offer.patient_id)
    if person is None:
        return
    doctor, practice_zone = await doctor_name_and_zone(con, offer.doctor_id)
    patient, patient_login = await patient_name_and_login(con, offer.patient_id)
    zone = person.time_zone or practice_zone
    await notify(
        con,
        Outgoing(
            f"event:{envelope.id}",
            events.WAITLIST_OFFERED,
            person,
            {
                "other": doctor,
                "for_whom": patient if patient_login != person.user_id else None,
                "when": when(offer.start, zone, person.language),
                "until": when(offer.expires_at, zone, person.language),
                "link": f"{settings.public_url.rstrip('/')}/waitlist",
            },
            data={
                "offer_id": str(offer.offer_id),
                # Whom the slot is for: a proxy hears of its relatives' offers too.
                "patient_id": str(offer.patient_id),
                "doctor_id": str(offer.doctor_id),
                "start": offer.start.isoformat(),
                "end": offer.end.isoformat(),
                "expires_at": offer.expires_at.isoformat(),
            },
            appointment_id=offer.appointment_id,
        ),
        clock.now(),
    )
