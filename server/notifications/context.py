"""What an appointment's templates may name, as one recipient reads it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from server.notifications import templating
from server.settings import Settings
from storage.notify.parties import AppointmentContext, Recipient


def link_for(settings: Settings, ctx: AppointmentContext, person: Recipient) -> str:
    base = settings.public_url.rstrip("/")
    if ctx.visit_type == "teleconsultation" and ctx.status in ("scheduled", "confirmed"):
        return f"{base}/consult/{ctx.id}"
    return (
        f"{base}/agenda/appointments/{ctx.id}"
        if person.role == "doctor"
        else f"{base}/appointments"
    )


def template_context(
    settings: Settings,
    ctx: AppointmentContext,
    person: Recipient,
    *,
    previous_start: datetime | None = None,
    reason: str | None = None,
    by_other: bool = False,
) -> dict[str, Any]:
    """What every appointment template may name, as `person` reads it."""
    when, practice_when = templating.when_pair(
        ctx.start, person.time_zone, ctx.doctor_time_zone, person.language
    )
    previous = None
    if previous_start is not None:
        previous = templating.when(
            previous_start, person.time_zone or ctx.doctor_time_zone, person.language
        )
    return {
        "other": ctx.other_name(person),
        # The patient's name when `person` is a proxy: "Léa Martin's appointment", not "your".
        "for_whom": ctx.for_whom(person),
        "role": person.role,
        "when": when,
        "practice_when": practice_when,
        "previous_when": previous,
        "visit_type": ctx.visit_type,
        "where": ctx.location or ctx.address,
        "link": link_for(settings, ctx, person),
        "reason": reason,
        "by_other": by_other,
    }
