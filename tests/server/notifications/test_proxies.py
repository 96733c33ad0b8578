"""A relative with several proxies (issue #24): every active proxy hears of the relative's
appointments, each once, in their own language and at their own address; a revoked one hears
nothing."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from email.message import EmailMessage

import asyncpg
import httpx
import time_machine

from server.notifications.reminders import due_time, send_due_reminders
from server.settings import Settings
from storage.notify import reminders as store
from tests.factories import make_patient
from tests.server.notifications.conftest import Mailbox
from tests.server.notifications.helpers import eventually, message_rows
from tests.server.patients.test_relatives import add, link
from tests.server.scheduling.helpers import booked, doctor_with_availability, local


async def test_both_parents_get_the_reminder_once_and_a_revoked_proxy_nothing(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, mailbox: Mailbox
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    mother = await make_patient(db, settings, first_name="Claire", phone="+33611111111")
    father = await make_patient(db, settings, first_name="Marc", phone="+33622222222")
    former = await make_patient(db, settings, first_name="Paul", phone="+33633333333")
    lea = await add(client, mother)
    await link(db, father, lea["id"])
    await link(db, former, lea["id"], revoked=True)
    await db.execute(
        "INSERT INTO notify.preferences (user_id, language) VALUES ($1, 'fr')", father.user.id
    )
    start = local(doctor, 3, "10:00")
    appointment = await booked(client, mother, doctor, start, patient_id=lea["id"])
    appointment_id = uuid.UUID(appointment["id"])
    await eventually(lambda: store.of_appointment(db, appointment_id), lambda r: len(r) == 2)

    due = due_time(start, doctor.time_zone, 1440)
    with time_machine.travel(due + timedelta(seconds=1), tick=True):
        await eventually(
            lambda: store.of_appointment(db, appointment_id),
            lambda r: [x["status"] for x in r] == ["sent", "pending"],
        )
        # Redelivered: the same reminder claimed again (as after a crash) queues nothing new.
        await db.execute(
            """UPDATE notify.reminders SET status = 'pending', done_at = NULL
               WHERE appointment_id = $1 AND offset_minutes = 1440""",
            appointment_id,
        )
        await send_due_reminders(db, settings, 100)
        await eventually(
            lambda: store.of_appointment(db, appointment_id),
            lambda r: [x["status"] for x in r] == ["sent", "pending"],
        )
        mother_got = await eventually(
            lambda: _reminders(mailbox, mother.user.email, "Reminder"), lambda m: len(m) >= 1
        )
        father_got = await eventually(
            lambda: _reminders(mailbox, father.user.email, "Rappel"), lambda m: len(m) >= 1
        )
        await asyncio.sleep(0.3)  # several polls of the delivery worker: nothing more comes

    assert len(await _reminders(mailbox, mother.user.email, "Reminder")) == 1
    assert len(await _reminders(mailbox, father.user.email, "Rappel")) == 1
    assert "Léa Martin" in mother_got[0].get_body(("plain",)).get_content()
    assert "Léa Martin" in father_got[0].get_body(("plain",)).get_content()
    sms = await message_rows(db, kind="appointment.reminder", channel="sms")
    assert sorted(m["recipient"] for m in sms) == ["+33611111111", "+33622222222"]
    # Each parent also heard of the booking (once); the former proxy of nothing at all.
    for parent in (mother, father):
        booking = await message_rows(
            db, kind="appointment.confirmation", channel="email", user_id=parent.user.id
        )
        assert len(booking) == 1
    assert await message_rows(db, user_id=former.user.id) == []
    assert mailbox.to(former.user.email) == []
    in_app = await db.fetch("SELECT user_id FROM notify.in_app WHERE kind = 'appointment.reminder'")
    assert sorted(r["user_id"] for r in in_app) == sorted([mother.user.id, father.user.id])


async def _reminders(mailbox: Mailbox, address: str, subject: str) -> list[EmailMessage]:
    return [m for m in mailbox.to(address) if m["Subject"].startswith(subject)]
