"""The scheduling service: what routes and other domains call (contracts.md).

Cross-domain contract: list_available_slots, next_available_slot, appointment_parties
(plus mark_hold_paid and retake_expired_hold for payments, release_expired_holds for the
sweeper).
"""

from __future__ import annotations

from server.scheduling.appointments import (
    ListQuery,
    agenda_view,
    appointment_parties,
    get_appointment,
    list_for_doctor,
    list_for_patient,
    update_appointment,
)
from server.scheduling.availability import (
    get_availability,
    preview_availability,
    replace_availability,
)
from server.scheduling.booking import book_appointment, reschedule_appointment
from server.scheduling.holds import release_expired_holds
from server.scheduling.schemas import Parties, SlotsPage
from server.scheduling.slot_pages import available_slots_json, list_available_slots
from server.scheduling.slots import next_available_slot
from server.scheduling.transitions import mark_hold_paid, retake_expired_hold, transition

__all__ = [
    "ListQuery",
    "Parties",
    "SlotsPage",
    "agenda_view",
    "appointment_parties",
    "available_slots_json",
    "book_appointment",
    "get_appointment",
    "get_availability",
    "list_available_slots",
    "list_for_doctor",
    "list_for_patient",
    "mark_hold_paid",
    "retake_expired_hold",
    "next_available_slot",
    "preview_availability",
    "release_expired_holds",
    "replace_availability",
    "reschedule_appointment",
    "transition",
    "update_appointment",
]
