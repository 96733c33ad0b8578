"""Failures of the doctors domain, rendered as problem bodies by server.problems."""

from __future__ import annotations

from server.errors import Conflict, Forbidden, NotFound


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
