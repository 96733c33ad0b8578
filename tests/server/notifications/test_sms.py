"""SMS through Twilio's SDK against Twilio's own API description, and two-way replies through
the signed inbound webhook."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import asyncpg
import httpx
import pytest
from twilio.request_validator import RequestValidator

from server import clock
from server.notifications.inbound import SMS_CANCEL_REASON, SmsReply, parse_reply
from server.notifications.providers import DeliveryFailed, TwilioProvider
from server.settings import Settings
from storage.notify import reminders as reminder_store
from storage.notify.messages import Message
from storage.reliability import practice_figures
from tests.conftest import EngineUrls, delete_stream, make_settings
from tests.factories import Doctor, Patient, make_doctor, make_patient
from tests.server.notifications.conftest import Mailbox
from tests.server.notifications.helpers import eventually, insert_appointment, message_rows
from tests.server.notifications.twilio_mock import TwilioMock
from tests.server.patients.test_relatives import add, link

ACCOUNT = "AC" + "0123456789abcdef" * 2
TOKEN = "test-auth-token-0123456789"
SENDER = "+15005550006"
WEBHOOK = "/api/v1/notifications/sms/inbound"


@pytest.fixture
async def twilio() -> AsyncIterator[tuple[TwilioMock, str]]:
    mock = TwilioMock(ACCOUNT, TOKEN)
    runner, base = await mock.start()
    yield mock, base
    await runner.cleanup()
    assert mock.invalid == [], "every request matched Twilio's API description"


@pytest.fixture
async def settings(
    database_url: str,
    engine_urls: EngineUrls,
    tmp_path: Path,
    smtp: tuple[Mailbox, int],
    twilio: tuple[TwilioMock, str],
) -> AsyncIterator[Settings]:
    settings = make_settings(
        database_url,
        engine_urls.nats_url,
        tmp_path,
        smtp_url=f"smtp://127.0.0.1:{smtp[1]}",
        twilio_account_sid=ACCOUNT,
        twilio_auth_token=TOKEN,
        twilio_from=SENDER,
        twilio_api_base=twilio[1],
        notify_poll_interval_s=0.05,
    )
    yield settings
    await delete_stream(engine_urls.nats_url, settings.nats_stream)


def _sms(to: str, body: str = "Markini: hello") -> Message:
    return Message(uuid.uuid4(), "appointment.reminder", "sms", to, None, body, None, 1)


async def test_the_sdk_sends_what_twilio_describes_and_failures_are_sorted(
    twilio: tuple[TwilioMock, str],
) -> None:
    mock, base = twilio
    provider = TwilioProvider(ACCOUNT, TOKEN, SENDER, base)
    try:
        sid = await provider.send(_sms("+33612345678"))
        assert sid is not None and re.fullmatch(r"SM[0-9a-f]{32}", sid)
        assert mock.sent == [{"To": "+33612345678", "From": SENDER, "Body": "Markini: hello"}]
        with pytest.raises(DeliveryFailed) as bad:
            await provider.send(_sms("+15005550001"))
        assert bad.value.permanent and "21211" in str(bad.value)
        mock.busy.add("+33699999999")
        with pytest.raises(DeliveryFailed) as busy:
            await provider.send(_sms("+33699999999"))
        assert not busy.value.permanent
    finally:
        await provider.close()


def _signed(settings: Settings, params: dict[str, str]) -> dict[str, str]:
    url = settings.public_url.rstrip("/") + WEBHOOK
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    return {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}


async def _reply(
    client: httpx.AsyncClient, settings: Settings, sender: str, body: str, sid: str | None = None
) -> str:
    params = {
        "MessageSid": sid or "SM" + uuid.uuid4().hex,
        "AccountSid": ACCOUNT,
        "From": sender,
        "To": SENDER,
        "Body": body,
        "NumMedia": "0",
    }
    response = await client.post(
        WEBHOOK, content=urlencode(params), headers=_signed(settings, params)
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    found = re.search(r"<Message>(.*)</Message>", response.text)
    assert found is not None
    return found.group(1)


async def _reminded(
    db: asyncpg.Connection,
    doctor: Doctor,
    patient: Patient,
    starts_in: timedelta,
    reason_id: uuid.UUID | None = None,
) -> tuple[uuid.UUID, str]:
    """An appointment (of visit reason `reason_id`) whose reminder is due now; waits for its
    SMS to go out."""
    start = clock.now() + starts_in
    appointment_id = await insert_appointment(db, doctor, patient, start, reason_id=reason_id)
    await reminder_store.schedule(db, appointment_id, start, [(60 * 48, clock.now())])
    [sms] = await eventually(
        lambda: message_rows(db, appointment_id=appointment_id, channel="sms", status="sent"),
        lambda rows: len(rows) == 1,
    )
    return appointment_id, sms["reference"]


async def test_two_way_reminders_confirm_and_cancel_their_own_appointment_only(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    settings: Settings,
    twilio: tuple[TwilioMock, str],
) -> None:
    mock, _ = twilio
    doctor, patient = await make_doctor(db, settings), await make_patient(db, settings)
    phone = "+33612345678"
    await db.execute(
        "INSERT INTO notify.preferences (user_id, phone) VALUES ($1, $2)", patient.user.id, phone
    )
    old, old_ref = await _reminded(db, doctor, patient, timedelta(days=3))
    new, new_ref = await _reminded(db, doctor, patient, timedelta(days=4))
    assert mock.sent[-1]["To"] == phone
    assert f"Reply C {new_ref} to confirm, A {new_ref} to cancel" in mock.sent[-1]["Body"]

    sid = "SM" + uuid.uuid4().hex
    answer = await _reply(client, settings, "06 12 34 56 78", f"a {old_ref}", sid)
    assert "is cancelled" in answer
    # Twilio retrying the same message gets the same answer, and nothing happens twice.
    assert await _reply(client, settings, phone, f"a {old_ref}", sid) == answer
    statuses = dict(await db.fetch("SELECT id, status FROM scheduling.appointments"))
    assert statuses == {old: "cancelled", new: "scheduled"}

    answer = await _reply(client, settings, phone, "C")  # the latest reminder's appointment
    assert "knows you will come" in answer
    told = await eventually(
        lambda: db.fetch(
            "SELECT kind, data FROM notify.in_app WHERE user_id = $1 AND kind = $2",
            doctor.user.id,
            "appointment.attendance",
        ),
        lambda rows: len(rows) == 1,
    )
    assert told[0]["data"] == {"appointment_id": str(new)}
    assert "reference" in await _reply(client, settings, phone, "Bonjour ?")
    # The doctor hears of the SMS cancellation through the usual event.
    await eventually(
        lambda: message_rows(db, appointment_id=old, kind="appointment.cancelled"),
        lambda rows: {r["recipient"] for r in rows} >= {doctor.user.email},
    )


async def test_a_cancel_reply_inside_the_cutoff_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, patient = await make_doctor(db, settings), await make_patient(db, settings)
    soon, reference = await _reminded(db, doctor, patient, timedelta(hours=3))
    answer = await _reply(client, settings, "+33600000000", f"A {reference}")
    assert f"less than {settings.patient_cancel_cutoff_h} h" in answer
    status = await db.fetchval("SELECT status FROM scheduling.appointments WHERE id = $1", soon)
    assert status == "scheduled"


async def test_an_unsigned_or_forged_reply_is_refused(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    params = {"From": "+33600000000", "Body": "A"}
    forged = {**_signed(settings, params), "X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}
    for headers in ({"Content-Type": "application/x-www-form-urlencoded"}, forged):
        response = await client.post(WEBHOOK, content=urlencode(params), headers=headers)
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"


def test_a_cancel_reply_carries_its_reason_after_the_reference() -> None:
    assert parse_reply("a 4821") == SmsReply("A", "4821")
    assert parse_reply("A 4821 fièvre depuis 2 jours") == SmsReply(
        "A", "4821", "fièvre depuis 2 jours"
    )
    assert parse_reply(" A: 4821, fever ") == SmsReply("A", "4821", "fever")
    assert parse_reply("A fever") == SmsReply("A", None, "fever")
    assert parse_reply("A 4821 \u200b\ufeff") == SmsReply("A", "4821")
    assert parse_reply("A " + "x" * 600).reason == "x" * 500
    # A mistyped reference is no reason to cancel the latest appointment; a confirm takes none.
    for unclear in ("A 12345", "A 48 21", "C 4821 merci", "Annuler"):
        assert parse_reply(unclear).action is None, unclear


# Late after 72 h before the start; the patients' SMS cut-off is 24 h.
async def _visit_reason(db: asyncpg.Connection, doctor: Doctor, required: str) -> uuid.UUID:
    reason_id: uuid.UUID = await db.fetchval(
        """INSERT INTO scheduling.visit_reasons (doctor_id, name, duration_minutes, visit_types,
                                                 refund_cutoff_hours, cancel_reason_required)
           VALUES ($1, 'Suivi', 30, ARRAY['in-person'], 72, $2) RETURNING id""",
        doctor.id,
        required,
    )
    return reason_id


async def _outcome(db: asyncpg.Connection, appointment_id: uuid.UUID) -> tuple[object, ...]:
    """(status, cancelled_by, recorded reason, the reasons of its appointment.cancelled events)"""
    row = await db.fetchrow(
        """SELECT status, cancelled_by, cancellation_reason
           FROM scheduling.appointments WHERE id = $1""",
        appointment_id,
    )
    events = await db.fetch(
        """SELECT data->>'reason' AS reason FROM bus.outbox
           WHERE type = 'appointment.cancelled' AND data->>'appointment_id' = $1""",
        str(appointment_id),
    )
    assert row is not None
    return (*row.values(), [e["reason"] for e in events])


NOT_CANCELLED = ("scheduled", None, None, [])
ASK = {
    "en": "is not cancelled: the practice asks why you cancel. Reply A {ref} followed by the "
    "reason (e.g. A {ref} fever), or cancel in the app: {link}",
    "fr": "n'est pas annulé : le cabinet demande le motif de l'annulation. Répondez A {ref} "
    "suivi du motif (ex. A {ref} fièvre), ou annulez dans l'application : {link}",
}
CANCELLED = {"en": "is cancelled.", "fr": "est annulé."}


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_a_cancel_reply_without_the_reason_the_policy_always_asks_changes_nothing(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, language: str
) -> None:
    doctor, patient = await make_doctor(db, settings), await make_patient(db, settings)
    await db.execute(
        "INSERT INTO notify.preferences (user_id, language) VALUES ($1, $2)",
        patient.user.id,
        language,
    )
    reason_id = await _visit_reason(db, doctor, "always")
    visit, ref = await _reminded(db, doctor, patient, timedelta(days=10), reason_id)
    link = f"{settings.public_url.rstrip('/')}/appointments"
    phone = "+33600000000"
    for bare in (f"A {ref}", "A", f"A {ref} \u200b", f"a {ref} \ufeff \u200d\u2060\t"):
        answer = await _reply(client, settings, phone, bare)
        assert answer.endswith(ASK[language].format(ref=ref, link=link)), (bare, answer)
        assert await _outcome(db, visit) == NOT_CANCELLED
    reason = "fièvre" if language == "fr" else "fever"
    answer = await _reply(client, settings, phone, f"A {ref} {reason}")
    assert answer.endswith(CANCELLED[language]), answer
    assert await _outcome(db, visit) == ("cancelled", "patient", reason, [reason])


async def test_a_late_cancel_reply_needs_the_reason_an_early_one_does_not(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, patient = await make_doctor(db, settings), await make_patient(db, settings)
    reason_id = await _visit_reason(db, doctor, "late")
    late, late_ref = await _reminded(db, doctor, patient, timedelta(days=2), reason_id)
    early, early_ref = await _reminded(db, doctor, patient, timedelta(days=10), reason_id)
    phone = "+33600000000"

    answer = await _reply(client, settings, phone, f"A {late_ref}")
    assert f"Reply A {late_ref} followed by the reason" in answer
    assert await _outcome(db, late) == NOT_CANCELLED
    answer = await _reply(client, settings, phone, f"A {early_ref}")
    assert answer.endswith("is cancelled.")
    assert await _outcome(db, early) == (
        "cancelled",
        "patient",
        SMS_CANCEL_REASON,
        [SMS_CANCEL_REASON],
    )
    answer = await _reply(client, settings, phone, f"A {late_ref} fever")
    assert answer.endswith("is cancelled.")
    assert await _outcome(db, late) == ("cancelled", "patient", "fever", ["fever"])
    # Counted late as by the API: the early one is not.
    [figures] = await practice_figures(db, doctor.id, timedelta(hours=48))
    assert (figures["late_cancellations"], figures["no_shows"]) == (1, 0)


async def test_a_cancel_reply_where_no_reason_is_asked_cancels_and_keeps_a_given_one(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, patient = await make_doctor(db, settings), await make_patient(db, settings)
    reason_id = await _visit_reason(db, doctor, "never")
    plain, plain_ref = await _reminded(db, doctor, patient, timedelta(days=2), reason_id)
    given, given_ref = await _reminded(db, doctor, patient, timedelta(days=3), reason_id)
    phone = "+33600000000"
    assert (await _reply(client, settings, phone, f"A {plain_ref}")).endswith("is cancelled.")
    assert await _outcome(db, plain) == (
        "cancelled",
        "patient",
        SMS_CANCEL_REASON,
        [SMS_CANCEL_REASON],
    )
    answer = await _reply(client, settings, phone, f"A {given_ref} travel")
    assert answer.endswith("is cancelled.")
    assert await _outcome(db, given) == ("cancelled", "patient", "travel", ["travel"])


async def test_a_cancel_reply_inside_the_cutoff_is_refused_before_any_reason_is_asked(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, patient = await make_doctor(db, settings), await make_patient(db, settings)
    reason_id = await _visit_reason(db, doctor, "always")
    soon, reference = await _reminded(db, doctor, patient, timedelta(hours=3), reason_id)
    for body in (f"A {reference}", f"A {reference} fever"):
        answer = await _reply(client, settings, "+33600000000", body)
        assert f"less than {settings.patient_cancel_cutoff_h} h" in answer
        assert await _outcome(db, soon) == NOT_CANCELLED


async def test_each_proxy_gets_the_reminder_and_a_reply_acts_as_a_proxy_still_linked(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    mother = await make_patient(db, settings, phone="+33611111111")
    father = await make_patient(db, settings, phone="+33622222222")
    lea = await add(client, mother)
    await link(db, father, lea["id"])
    start = clock.now() + timedelta(days=3)
    child = Patient(mother.user, uuid.UUID(lea["id"]))  # insert_appointment reads the id only
    appointment_id = await insert_appointment(db, doctor, child, start)
    await reminder_store.schedule(db, appointment_id, start, [(60 * 48, clock.now())])
    sent = await eventually(
        lambda: message_rows(db, appointment_id=appointment_id, channel="sms", status="sent"),
        lambda rows: len(rows) == 2,
    )
    assert {r["recipient"] for r in sent} == {"+33611111111", "+33622222222"}
    reference = sent[0]["reference"]
    await db.execute(
        "UPDATE patients.relatives SET revoked_at = $1 WHERE proxy_user_id = $2",
        clock.now(),
        mother.user.id,
    )
    # The mother no longer acts for Léa: her reply acts on nothing; the father's cancels.
    assert "reference" in await _reply(client, settings, "+33611111111", f"A {reference}")
    status = "SELECT status FROM scheduling.appointments WHERE id = $1"
    assert await db.fetchval(status, appointment_id) == "scheduled"
    answer = await _reply(client, settings, "+33622222222", f"A {reference}")
    assert answer.startswith("Markini: Léa Martin's appointment with ") and "is cancelled" in answer
    assert await db.fetchval(status, appointment_id) == "cancelled"
    actor = await db.fetchval(
        """SELECT actor FROM bus.outbox
           WHERE type = 'appointment.cancelled' AND data->>'appointment_id' = $1""",
        str(appointment_id),
    )
    assert actor == str(father.user.id)
