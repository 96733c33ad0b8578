"""Appointments as an RFC 5545 calendar (icalendar), with VTIMEZONE for every zone used."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from server.scheduling.schemas import AppointmentOut

PRODID = "-//Markini//Appointments//EN"
UID_DOMAIN = "markini"
# Our states as VEVENT STATUS.
EVENT_STATUS = {
    "held": "TENTATIVE",
    "scheduled": "CONFIRMED",
    "confirmed": "CONFIRMED",
    "completed": "CONFIRMED",
    "no-show": "CONFIRMED",
    "cancelled": "CANCELLED",
}


@dataclass(frozen=True)
class FeedItem:
    appointment: AppointmentOut
    title: str  # who it is with, as the owner reads it
    location: str


def calendar(name: str, items: Sequence[FeedItem], stamped: datetime) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    for item in items:
        cal.add_component(_event(item, stamped))
    cal.add_missing_timezones()
    return bytes(cal.to_ical())


def _event(item: FeedItem, stamped: datetime) -> Event:
    a = item.appointment
    zone = ZoneInfo(a.time_zone)
    event = Event()
    event.add("uid", f"{a.id}@{UID_DOMAIN}")
    event.add("dtstamp", stamped)
    event.add("dtstart", a.start.astimezone(zone))
    event.add("dtend", a.end.astimezone(zone))
    event.add("summary", item.title)
    event.add("status", EVENT_STATUS[a.status])
    event.add("last-modified", a.updated_at)
    # Calendars apply a change when SEQUENCE grows: seconds since the booking, at the last change.
    event.add("sequence", int((a.updated_at - a.created_at).total_seconds()))
    if item.location:
        event.add("location", item.location)
    if a.visit_type == "teleconsultation":
        event.add("description", "Video consultation: join from your Markini appointments.")
    return event
