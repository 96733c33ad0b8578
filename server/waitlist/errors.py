"""What waitlist requests can run into."""

from __future__ import annotations

from server.errors import Conflict, FieldCode, Reason

WAITLIST_PATIENTS = Reason("waitlist-patients", "Only patients join a waitlist.")
ALREADY_WAITING = Reason(
    "already-waiting", "You are already waiting for this doctor and visit type."
)
NO_SUCH_ENTRY = Reason("no-such-waitlist-entry", "No such waitlist entry.")
NO_SUCH_OFFER = Reason("no-such-offer", "No such offer.")
OFFER_CLOSED = Reason("offer-closed", "This offer is no longer open.")
NOT_YOUR_APPOINTMENT = Reason(
    "replaces-not-yours", "The appointment to move must be one of your upcoming ones."
)
WINDOW_ORDER = FieldCode("window-order", "`latest` must come after `earliest`.")
WINDOW_PASSED = FieldCode("window-passed", "The window has already passed.")
DAY_TIME_ORDER = FieldCode("day-time-order", "`day_until` must come after `day_from`.")
WAITLIST_TARGET = FieldCode(
    "waitlist-target", "Give a doctor_id, or a specialty with a city or a point and radius."
)
UNKNOWN_SPECIALTY = FieldCode("unknown-specialty", "No such specialty.")
DOCTOR_ONLY_FIELD = FieldCode(
    "doctor-entry-only", "Only an entry for one doctor names a reason or an appointment to move."
)
INVALID_ENTRY = Reason("invalid-waitlist-entry", "The waitlist entry is invalid.")


class OfferClosed(Conflict):
    """The offer was accepted, declined or lapsed (its hold ran out) already."""

    title = "Offer closed"
    type = "/problems/offer-closed"


class AlreadyWaiting(Conflict):
    title = "Already waiting"
    type = "/problems/already-waiting"
