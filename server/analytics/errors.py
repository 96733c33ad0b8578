"""Who may read which figures, and what a range may be."""

from __future__ import annotations

from server.errors import FieldCode, Reason

OWN_FIGURES = Reason("own-figures", "Doctors see their own figures only.")
ANALYTICS_ROLES = Reason("analytics-roles", "Analytics are for doctors and admins.")
PLATFORM_FIGURES = Reason(
    "platform-figures", "The busiest specialties and cities are platform figures (admins)."
)
TO_NOT_BEFORE_FROM = FieldCode("to_not_before_from", "`to` must not be before `from`")
