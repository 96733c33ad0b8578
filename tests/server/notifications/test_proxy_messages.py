"""What a proxy reads of a relative's appointment (issue #24): greeted by their own name and told
whose appointment it is, by email, SMS and in the bell, in English and French, while the patient's
own messages stay as they were; and a phone shared by two people acting for the patient (a
family's) gets each text once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from email.message import EmailMessage

import asyncpg
import httpx
import pytest

from server import clock
from server.settings import Settings
from storage.notify import reminders as reminder_store
from tests.factories import Doctor, Patient, make_doctor, make_patient
from tests.server.notifications.conftest import Mailbox
from tests.server.notifications.helpers import eventually, insert_appointment, message_rows
from tests.server.notifications.test_sms import settings, twilio  # noqa: F401 - the fixtures
from tests.server.notifications.twilio_mock import TwilioMock
from tests.server.patients.test_relatives import add, link
from tests.server.scheduling.helpers import booked, doctor_with_availability, local
from tests.server.waitlist.helpers import join, offer_for

# Locking, authorization, audit and wording: no answer here depends on the hour (left out of
# the awkward-instant reruns, tools/dev.py).
pytestmark = pytest.mark.any_hour

FAMILY_PHONE = "+33611112222"


async def _mail(mailbox: Mailbox, address: str, subject: str) -> EmailMessage:
    """The one email to `address` whose subject starts with `subject`, once it arrived."""
    found = await eventually(
        lambda: _subjects(mailbox, address, subject), lambda found: len(found) >= 1
    )
    assert len(found) == 1, [m["Subject"] for m in found]
    return found[0]


async def _subjects(mailbox: Mailbox, address: str, subject: str) -> list[EmailMessage]:
    return [m for m in mailbox.to(address) if m["Subject"].startswith(subject)]


def _text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")  # type: ignore[attr-defined]


async def _bell(client: httpx.AsyncClient, who: Patient, kind: str) -> list[str]:
    answer = await client.get("/api/v1/notifications", headers=who.user.headers)
    assert answer.status_code == 200, answer.text
    return [n["body"] for n in answer.json()["items"] if n["kind"] == kind]


async def _reminded(
    db: asyncpg.Connection, doctor: Doctor, patient_id: uuid.UUID, days: int
) -> uuid.UUID:
    """An appointment of `patient_id` in `days` days whose reminder is due now."""
    start = clock.now() + timedelta(days=days)
    somebody = Patient(doctor.user, patient_id)  # insert_appointment reads the id only
    appointment_id = await insert_appointment(db, doctor, somebody, start)
    await reminder_store.schedule(db, appointment_id, start, [(60 * 48, clock.now())])
    return appointment_id


async def test_parents_read_whose_reminder_it_is_and_their_shared_phone_gets_one_sms(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    settings: Settings,  # noqa: F811 - the fixture
    mailbox: Mailbox,
    twilio: tuple[TwilioMock, str],  # noqa: F811
) -> None:
    doctor = await make_doctor(db, settings, first_name="Paul", last_name="Durand")
    mother = await make_patient(
        db, settings, first_name="Claire", last_name="Martin", phone=FAMILY_PHONE
    )
    father = await make_patient(
        db, settings, first_name="Marc", last_name="Roux", phone=FAMILY_PHONE
    )
    await db.execute(
        "INSERT INTO notify.preferences (user_id, language) VALUES ($1, 'fr')", father.user.id
    )
    lea = await add(client, mother)
    await link(db, father, lea["id"])

    hers = await _reminded(db, doctor, uuid.UUID(lea["id"]), 3)
    sms = await eventually(
        lambda: message_rows(db, appointment_id=hers, channel="sms", status="sent"),
        lambda rows: len(rows) >= 1,
    )
    mother_got = await _mail(mailbox, mother.user.email, "Reminder")
    father_got = await _mail(mailbox, father.user.email, "Rappel")
    await asyncio.sleep(0.3)  # several polls of the delivery worker: no second text comes

    # One text to the family phone (the first of them to act, the mother, in English).
    [sms] = await message_rows(db, appointment_id=hers, channel="sms")
    texts = [m["Body"] for m in twilio[0].sent if m["To"] == FAMILY_PHONE]
    assert len(texts) == 1
    assert texts[0].startswith("Markini reminder: Léa Martin's appointment with Dr Paul Durand, ")
    # Each parent still gets their own email and bell, greeted by their own name.
    assert mother_got["Subject"].startswith("Reminder: Léa Martin's appointment with Dr Paul")
    assert father_got["Subject"].startswith("Rappel : rendez-vous de Léa Martin avec Dr Paul")
    mine, his = _text(mother_got), _text(father_got)
    assert mine.startswith("Hello Claire Martin,") and "Léa Martin's appointment with" in mine
    assert "your appointment" not in mine
    assert his.startswith("Bonjour Marc Roux,")
    assert "Rappel du rendez-vous de Léa Martin avec Dr Paul Durand" in his
    assert "Léa" not in mine.splitlines()[0] and "Léa" not in his.splitlines()[0]
    [bell] = await _bell(client, mother, "appointment.reminder")
    assert bell.endswith(", for Léa Martin")
    [bell] = await _bell(client, father, "appointment.reminder")
    assert bell.endswith(", pour Léa Martin")

    # The mother's own appointment: her messages speak to her, as they always did.
    own = await _reminded(db, doctor, mother.id, 4)
    await eventually(
        lambda: message_rows(db, appointment_id=own, channel="sms", status="sent"),
        lambda rows: len(rows) == 1,
    )
    yours = await eventually(
        lambda: _subjects(mailbox, mother.user.email, "Reminder: Dr Paul Durand, "),
        lambda found: len(found) == 1,
    )
    assert _text(yours[0]).startswith("Hello Claire Martin,\n\nA reminder of your appointment")
    assert mailbox.to(father.user.email) == [father_got]
    assert twilio[0].sent[-1]["Body"].startswith("Markini reminder: Dr Paul Durand, ")


async def test_a_proxy_reads_the_offer_is_held_for_the_relative(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    settings: Settings,  # noqa: F811
    mailbox: Mailbox,
    twilio: tuple[TwilioMock, str],  # noqa: F811
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    parent = await make_patient(
        db, settings, first_name="Claire", last_name="Martin", phone="+33633334444"
    )
    canceller = await make_patient(db, settings, phone="+33655556666")
    lea = await add(client, parent)
    taken = await booked(client, canceller, doctor, local(doctor, 2, "10:00"))
    await join(client, parent, doctor, patient_id=lea["id"])
    await client.delete(f"/api/v1/appointments/{taken['id']}", headers=canceller.user.headers)
    await offer_for(client, parent)

    got = await _mail(mailbox, parent.user.email, "A slot with")
    assert " is held for Léa Martin: " in got["Subject"]
    text = _text(got)
    assert text.startswith("Hello Claire Martin,\n\nLéa Martin is on the waitlist of Dr ")
    assert "It is held for Léa Martin until" in text and "for you" not in text
    [bell] = await _bell(client, parent, "waitlist.offered")
    assert bell.endswith(", for Léa Martin")
    sms = await eventually(
        lambda: asyncio.sleep(0, [m for m in twilio[0].sent if m["To"] == "+33633334444"]),
        lambda found: len(found) == 1,
    )
    assert " is held for Léa Martin until " in sms[0]["Body"]
