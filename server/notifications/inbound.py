"""Two-way SMS: a patient answers a reminder with "C 4821" (confirm) or "A 4821" (cancel).

The reference names the reminder, so a reply to an old reminder acts on that reminder's
appointment only; a bare "C" or "A" acts on the latest reminder sent to the number. The sender
acts as the user that reminder went to (the patient, or one of their proxies), answered in
their language, and only while they still act for the patient (a revoked proxy's reply acts on
nothing). Words after the cancel (e.g. "A 4821 fever", "A fièvre") are the patient's reason.
Cancelling follows the patients' rules: the scheduling state machine's `refusal` (the cut-off
before the start), then the visit reason's cancellation policy through the API's own
`require_cancel_reason` (without a reason where one is asked, nothing is cancelled and the
answer says how to give one).
Confirming tells the doctor the patient will come (the doctor's own "confirm" is a different
step of the state machine). The answer goes back as TwiML, i.e. by SMS.

A confirm or cancel is audited like the API's changes (fail closed): its entry, naming the user
the reminder went to, is written in the change's transaction, with the answer
recorded for the MessageSid; if the entry cannot be written, all of it rolls back and the answer
says to try again.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import asyncpg

from server import clock
from server.audit.service import AuditUnavailable, record_change_for
from server.engines import Engines
from server.errors import InvalidInput, MarkiniError
from server.notifications import templating
from server.notifications.context import template_context
from server.notifications.notifier import Outgoing, notify
from server.notifications.phones import to_e164
from server.scheduling.cancellation import require_cancel_reason, says_something
from server.scheduling.errors import TooLate
from server.scheduling.schemas import REASON_MAX_LENGTH
from server.scheduling.state_machine import check_transition
from server.scheduling.transitions import apply_transition
from storage.notify.messages import latest_sms_reminder, record_sms_answer, sms_answer
from storage.notify.parties import (
    AppointmentContext,
    Recipient,
    appointment_context,
    user_recipient,
)

log = logging.getLogger(__name__)

# Punctuation and spaces around the reference separate it from the action and the reason.
REPLY = re.compile(
    r"^\s*(?P<action>[CcAa])\b\W*(?:(?P<reference>\d{4})(?!\d))?\W*(?P<rest>.*?)\s*$", re.S
)
SMS_CANCEL_REASON = "Cancelled by SMS reply"  # recorded when the patient gave no reason


@dataclass(frozen=True)
class SmsReply:
    action: str | None  # "C", "A", or None: not understood
    reference: str | None
    reason: str | None = None  # the words after "A" (and its reference), at most 500 chars


def parse_reply(body: str) -> SmsReply:
    """A confirm takes nothing after its reference; a cancel takes a reason, though not one
    that starts with a digit when no reference came first ("A 12345": a mistyped reference,
    not a reason for cancelling the latest reminder's appointment)."""
    found = REPLY.match(body)
    if found is None:
        return SmsReply(None, None)
    action, reference, rest = found["action"].upper(), found["reference"], found["rest"]
    if rest and (action == "C" or (reference is None and rest[0].isdigit())):
        return SmsReply(None, reference)
    return SmsReply(action, reference, rest[:REASON_MAX_LENGTH] or None)


def _answer(
    kind: str, ctx: AppointmentContext | None, person: Recipient | None, **extra: object
) -> str:
    context: dict[str, object] = {
        "name": "",
        "other": "",
        "when": "",
        "link": "",
        "for_whom": None,
        **extra,
    }
    if ctx is not None and person is not None:
        when = templating.when(ctx.start, person.time_zone or ctx.doctor_time_zone, person.language)
        # A proxy's reply is answered about the relative's appointment, by name.
        context.update(other=ctx.doctor.name, when=when, for_whom=ctx.for_whom(person))
    return templating.render(kind, person.language if person else "en", **context).sms


class _Undone(Exception):
    """The SMS's transaction rolls back, and `answer` is the reply."""

    def __init__(self, answer: str) -> None:
        super().__init__(answer)
        self.answer = answer


async def answer_sms(engines: Engines, message_sid: str, sender: str, body: str) -> str:
    """Act on one inbound SMS, once per Twilio MessageSid: a retried webhook, even one racing
    the first, gets the first answer and changes and audits nothing more. Returns the text to
    send back; when the change could not be audited, that nothing was done (and nothing is
    recorded for the MessageSid, so a retry acts anew)."""
    known = await sms_answer(engines.pool, message_sid)
    if known is not None:
        return known
    try:
        async with engines.pool.acquire() as con, con.transaction():
            answer = await _act(engines, con, message_sid, sender, body)
            first = await record_sms_answer(con, message_sid, answer, clock.now())
            if first is not None:  # a racing retry of the MessageSid answered first
                raise _Undone(first)
    except _Undone as undone:
        return undone.answer
    return answer


async def _act(
    engines: Engines, con: asyncpg.Connection, message_sid: str, sender: str, body: str
) -> str:
    try:
        phone = to_e164(sender)
    except ValueError:
        return _answer("sms.help", None, None, reference="1234")
    reply = parse_reply(body)
    reminder = await latest_sms_reminder(con, phone, reply.reference)
    ctx = await appointment_context(con, reminder["appointment_id"]) if reminder else None
    person = None
    if ctx is not None and reminder is not None:
        person = next((p for p in ctx.acting if p.user_id == reminder["user_id"]), None)
    if ctx is not None and reminder is not None and person is None:
        # The reminder went to someone who no longer acts for the patient (a proxy since
        # revoked): their number confirms and cancels nothing; answered in their language.
        former = await user_recipient(con, reminder["user_id"])
        return _answer("sms.help", None, former, reference="1234")
    if reply.action is None or ctx is None or person is None:
        return _answer("sms.help", ctx, person, reference=reply.reference or "1234")
    assert reminder is not None
    try:
        if reply.action == "A":
            return await _cancel(
                engines, con, ctx, person, reply.reason, reminder["reference"], message_sid
            )
        return await _confirm(engines, con, ctx, person, reminder["id"], message_sid)
    except AuditUnavailable as exc:
        raise _Undone(_answer("sms.unavailable", ctx, person, link=_link(engines))) from exc


async def _audit(
    con: asyncpg.Connection,
    ctx: AppointmentContext,
    person: Recipient,
    verb: Literal["cancel", "confirm"],
    message_sid: str,
    old: str,
    new: str,
) -> None:
    """The change's entry, in its transaction; raises AuditUnavailable when it cannot be written."""
    await record_change_for(
        con,
        user_id=person.user_id,
        role=person.role,
        action=f"appointment.sms_{verb}",
        resource_type="appointment",
        resource_id=ctx.id,
        payload={"message_sid": message_sid, "old_status": old, "new_status": new},
    )


async def _cancel(
    engines: Engines,
    con: asyncpg.Connection,
    ctx: AppointmentContext,
    person: Recipient,
    reason: str | None,
    reference: str,
    message_sid: str,
) -> str:
    hours = engines.settings.patient_cancel_cutoff_h
    cutoff = timedelta(hours=hours)
    try:
        async with con.transaction():  # a refusal leaves nothing behind
            # The cut-off first (apply_transition checks it again under the lock): a patient
            # asked for a reason must be able to cancel once they send one.
            check_transition("cancel", "patient", ctx.status, ctx.start, clock.now(), cutoff)
            await require_cancel_reason(con, ctx.id, ctx.status, reason)
            applied = await apply_transition(
                con,
                ctx.id,
                ctx.doctor_id,
                "cancel",
                actor=str(person.user_id),
                party="patient",
                reason=reason if reason and says_something(reason) else SMS_CANCEL_REASON,
                cutoff=cutoff,
            )
    except TooLate:
        return _answer("sms.refused", ctx, person, hours=hours, link=_link(engines))
    except InvalidInput:  # cancel-reason-required
        return _answer("sms.reason", ctx, person, reference=reference, link=_link(engines))
    except MarkiniError:  # not active any more (cancelled, past)
        return _answer("sms.refused", ctx, person, hours=None, link=_link(engines))
    assert applied is not None  # appointments are never deleted
    await _audit(con, ctx, person, "cancel", message_sid, applied.before, applied.row["status"])
    log.info("appointment cancelled by SMS", extra={"appointment_id": str(ctx.id)})
    return _answer("sms.cancelled", ctx, person)


async def _confirm(
    engines: Engines,
    con: asyncpg.Connection,
    ctx: AppointmentContext,
    person: Recipient,
    reminder_id: uuid.UUID,
    message_sid: str,
) -> str:
    if ctx.status not in ("scheduled", "confirmed") or ctx.start <= clock.now():
        return _answer("sms.refused", ctx, person, hours=None, link=_link(engines))
    doctor = ctx.doctor
    context = template_context(engines.settings, ctx, doctor)
    # One attendance notice per reminder, however often the patient answers it.
    await notify(
        con,
        Outgoing(
            f"attendance:{reminder_id}",
            "appointment.attendance",
            doctor,
            context,
            appointment_id=ctx.id,
        ),
        clock.now(),
    )
    # The status stays: the patient's word is what changed (the doctor's notice above).
    await _audit(con, ctx, person, "confirm", message_sid, ctx.status, ctx.status)
    return _answer("sms.confirmed", ctx, person)


def _link(engines: Engines) -> str:
    return f"{engines.settings.public_url.rstrip('/')}/appointments"
