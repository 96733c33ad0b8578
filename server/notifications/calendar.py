"""The appointment as an RFC 5545 invitation attached to its emails.

Every email about one appointment carries the same UID; SEQUENCE grows with each change
(notify.calendar_sequences), so a calendar client updates (METHOD:REQUEST) or removes
(METHOD:CANCEL, STATUS:CANCELLED) the one event it already has instead of adding another.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from icalendar import Calendar, Event, vCalAddress, vText

PRODID = "-//Markini//Appointments//EN"


def event_uid(appointment_id: uuid.UUID) -> str:
    return f"{appointment_id}@markini"


def invitation(
    *,
    appointment_id: uuid.UUID,
    sequence: int,
    start: datetime,
    end: datetime,
    summary: str,
    location: str,
    description: str,
    organizer_email: str,
    attendee_email: str,
    cancelled: bool,
    stamp: datetime,
) -> str:
    """The VCALENDAR text (CRLF line ends, as RFC 5545 wants)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", event_uid(appointment_id))
    event.add("sequence", sequence)
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", summary)
    event.add("location", location)
    event.add("description", description)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{organizer_email}")
    organizer.params["cn"] = vText("Markini")
    event["organizer"] = organizer
    attendee = vCalAddress(f"mailto:{attendee_email}")
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    event.add("attendee", attendee)
    cal.add_component(event)
    text: str = cal.to_ical().decode()
    return text
