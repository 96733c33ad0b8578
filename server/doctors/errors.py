"""Failures of the doctors domain, rendered as problem bodies by server.problems."""

from __future__ import annotations

from server.errors import Conflict, FieldCode, Forbidden, NotFound, Reason


class DoctorNotFound(NotFound):
    title = "Doctor not found"
    type = "/problems/doctor-not-found"


class LicenseTaken(Conflict):
    title = "License number already registered"
    type = "/problems/license-taken"


class ProfileExists(Conflict):
    title = "Profile already exists"
    type = "/problems/profile-exists"


class AlreadyReviewed(Conflict):
    title = "Appointment already reviewed"
    type = "/problems/already-reviewed"


class ReviewNotAllowed(Forbidden):
    title = "Review not allowed"
    type = "/problems/review-not-allowed"


LICENSE_IN_USE = Reason("license-in-use", "Another doctor already registered this license number.")
DOCTOR_PROFILE_ALREADY = Reason("doctor-profile-exists", "This user already has a doctor profile.")
NO_DOCTOR_PROFILE = Reason("no-doctor-profile", "You have no doctor profile yet; create it first.")
EDIT_PROFILE = Reason("profile-editor", "Only the doctor or an admin may edit this profile.")
PATIENTS_REVIEW = Reason("patients-review", "Only patients review doctors.")
REVIEW_AFTER_VISIT = Reason(
    "review-after-visit",
    "Only a patient whose appointment with this doctor is completed may review it.",
)
REVIEWED_ALREADY = Reason("reviewed-already", "This appointment has already been reviewed.")
UNKNOWN_SPECIALIZATIONS = Reason(
    "unknown-specializations", "Unknown specialization codes; see GET /api/v1/specializations."
)
UNKNOWN_SPECIALIZATION = FieldCode("unknown_specialization", "unknown code: {code}")
