"""Refusals of the admin console's lists."""

from __future__ import annotations

from server.errors import FieldCode, Reason

BAD_CURSOR = Reason("unknown-cursor", "The cursor is not one this API gave.")
UNKNOWN_CURSOR = FieldCode("unknown_cursor", "unknown cursor")
