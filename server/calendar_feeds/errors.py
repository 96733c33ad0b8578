"""Refusals of the calendar subscription links."""

from __future__ import annotations

from server.errors import Reason

ADMINS_NO_FEED = Reason("admins-no-feed", "Admins have no appointments to subscribe to.")
NO_FEED_LINK = Reason("no-feed-link", "You have no calendar link.")
NO_SUCH_CALENDAR = Reason("no-such-calendar", "No such calendar.")
