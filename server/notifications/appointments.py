"""Who hears what when an appointment changes: the handler of the "notifications" consumer.

Everyone acting for the patient (their own login, each active proxy: AppointmentContext.acting)
hears of every change (their calendar holds the event, updated by the attached invitation); the
doctor hears of what the patient's side (or the system) did. Reminders are planned,
moved or dropped in the same transaction.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from datetime import datetime
from email.utils import parseaddr

import asyncpg

from bus import events
from bus.events import Envelope
from server import clock
from server.notifications import calendar, reminders, templating
from server.notifications.context import template_context
from server.notifications.notifier import Outgoing, notify
from server.scheduling.transitions import HOLD_EXPIRED
from server.settings import Settings
from storage.notify import reminders as reminder_store
from storage.notify.messages import next_sequence
from storage.notify.parties import AppointmentContext, Recipient, appointment_context

log = logging.getLogger(__name__)

APPOINTMENT_TYPES = frozenset(
    {
        events.APPOINTMENT_CREATED,
        events.APPOINTMENT_UPDATED,
        events.APPOINTMENT_CONFIRMED,
        events.APPOINTMENT_CANCELLED,
        events.APPOINTMENT_RESCHEDULED,
        events.APPOINTMENT_COMPLETED,
        events.APPOINTMENT_NO_SHOW,
    }
)
# The event's kind for the patient; the doctor's, when the patient (or the system) acted.
PATIENT_KIND = {
    events.APPOINTMENT_CREATED: "appointment.confirmation",
    events.APPOINTMENT_UPDATED: "appointment.confirmation",  # a paid hold becomes a booking
    events.APPOINTMENT_CONFIRMED: "appointment.confirmed",
    events.APPOINTMENT_CANCELLED: "appointment.cancelled",
    events.APPOINTMENT_RESCHEDULED: "appointment.rescheduled",
    events.APPOINTMENT_COMPLETED: "appointment.completed",
    events.APPOINTMENT_NO_SHOW: "appointment.no_show",
}
DOCTOR_KIND = {
    events.APPOINTMENT_CREATED: "appointment.new",
    events.APPOINTMENT_UPDATED: "appointment.new",
    events.APPOINTMENT_CANCELLED: "appointment.cancelled",
    events.APPOINTMENT_RESCHEDULED: "appointment.rescheduled",
}
# Statuses of an active appointment: an update into one of them, unannounced, is the booking.
BOOKED = frozenset({"scheduled", "confirmed"})
# Events after which the patient's calendar must hold (or drop) the event.
INVITING = frozenset(
    {events.APPOINTMENT_CREATED, events.APPOINTMENT_UPDATED, events.APPOINTMENT_RESCHEDULED}
)


def _party_of_actor(ctx: AppointmentContext, envelope: Envelope) -> str:
    """'patient', 'doctor' or 'other' (an admin, the system): who made the change."""
    cancelled_by = envelope.data.get("cancelled_by")
    if envelope.type == events.APPOINTMENT_CANCELLED and cancelled_by:
        return str(cancelled_by)
    if any(envelope.actor == str(person.user_id) for person in ctx.acting):
        return "patient"
    if envelope.actor == str(ctx.doctor.user_id):
        return "doctor"
    return "other"


def _invitation(
    settings: Settings,
    ctx: AppointmentContext,
    person: Recipient,
    sequence: int,
    summary: str,
    now: datetime,
) -> str:
    return calendar.invitation(
        appointment_id=ctx.id,
        sequence=sequence,
        start=ctx.start,
        end=ctx.end,
        summary=summary,
        location=ctx.location or ctx.address,
        description=f"Markini: {ctx.other_name(person)}",
        organizer_email=parseaddr(settings.mail_from)[1],
        attendee_email=person.email,
        cancelled=ctx.status == "cancelled",
        stamp=now,
    )


async def _announced(con: asyncpg.Connection, appointment_id: uuid.UUID) -> bool:
    """Whether the patient already got the invitation (a booking confirmation)."""
    found = await con.fetchval(
        "SELECT true FROM notify.calendar_sequences WHERE appointment_id = $1", appointment_id
    )
    return bool(found)


async def apply_appointment_event(
    con: asyncpg.Connection, settings: Settings, envelope: Envelope
) -> None:
    """Notify the parties of one appointment event and keep its reminders in step."""
    appointment_id = uuid.UUID(str(envelope.data["appointment_id"]))
    status = envelope.data.get("status")
    if status == "held" or envelope.data.get("reason") == HOLD_EXPIRED:
        return  # a hold is not a booking yet; an expired one was never announced
    if envelope.type == events.APPOINTMENT_UPDATED and (
        status not in BOOKED or await _announced(con, appointment_id)
    ):
        # Only an appointment becoming active unannounced is news: a paid hold or a late
        # payment's retake ("confirmed"); other updates (notes, reason) are not.
        return
    current = await appointment_context(con, appointment_id)
    if current is None:
        return
    # The appointment as this event left it (a backlog may hold later changes already).
    ctx = replace(
        current,
        start=datetime.fromisoformat(envelope.data["start"]),
        end=datetime.fromisoformat(envelope.data["end"]),
        status=str(status),
    )
    now = clock.now()
    await _plan_reminders(con, settings, ctx, envelope.type, now)
    actor = _party_of_actor(ctx, envelope)
    previous = envelope.data.get("previous_start")
    previous_start = datetime.fromisoformat(previous) if previous else None
    reason = envelope.data.get("reason")
    cause = f"event:{envelope.id}"
    cancelling = envelope.type == events.APPOINTMENT_CANCELLED
    sequence = None
    if envelope.type in INVITING or (cancelling and await _announced(con, appointment_id)):
        sequence = await next_sequence(con, appointment_id)
    recipients = [(person, PATIENT_KIND[envelope.type]) for person in ctx.acting]
    if envelope.type in DOCTOR_KIND and actor != "doctor":
        recipients.append((ctx.doctor, DOCTOR_KIND[envelope.type]))
    for person, kind in recipients:
        context = template_context(
            settings,
            ctx,
            person,
            previous_start=previous_start,
            reason=reason,
            by_other=actor not in (person.role, "other"),
        )
        invite = None
        if sequence is not None and person.role == "patient":
            subject = templating.render(kind, person.language, name=person.name, **context).subject
            invite = _invitation(settings, ctx, person, sequence, subject, now)
        await notify(
            con,
            Outgoing(cause, kind, person, context, appointment_id=ctx.id, calendar=invite),
            now,
        )
    # A paid hold is confirmed by its payment: its update carries the link as a confirm would.
    if ctx.status == "confirmed" and ctx.visit_type == "teleconsultation":
        await send_teleconsultation_link(con, settings, ctx, cause, now)


async def send_teleconsultation_link(
    con: asyncpg.Connection, settings: Settings, ctx: AppointmentContext, cause: str, now: datetime
) -> None:
    for person in (*ctx.acting, ctx.doctor):
        context = template_context(settings, ctx, person)
        await notify(
            con,
            Outgoing(
                f"{cause}:link", "teleconsultation.link", person, context, appointment_id=ctx.id
            ),
            now,
        )


async def _plan_reminders(
    con: asyncpg.Connection,
    settings: Settings,
    ctx: AppointmentContext,
    event_type: str,
    now: datetime,
) -> None:
    if ctx.status not in ("scheduled", "confirmed"):
        dropped = await reminder_store.cancel(con, ctx.id, f"appointment {ctx.status}")
        if dropped:
            log.info("reminders dropped", extra={"appointment_id": str(ctx.id), "count": dropped})
        return
    if event_type == events.APPOINTMENT_CONFIRMED:
        return  # same time: the plan stands
    offsets = await reminder_store.offsets_of_doctor(con, ctx.doctor_id)
    if offsets is None:
        offsets = settings.reminder_offsets_minutes
    due = reminders.due_times(ctx.start, ctx.doctor_time_zone, offsets)
    await reminder_store.schedule(con, ctx.id, ctx.start, [(o, at) for o, at in due if at > now])
