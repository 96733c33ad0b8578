"""The one datetime type of the API's inputs (query parameters, bodies, GraphQL and FHIR
arguments), `Instant`: an ISO 8601 instant WITH its UTC offset, between 1900-01-01 and 2999-12-31
in UTC; and the one calendar-date type, `Day`, in the same years.

The bound keeps every instant far from the edges of Python's `datetime` (years 1..9999) and of
PostgreSQL's `timestamptz`, so the offsets and horizons the server adds or subtracts (a day, a
month of slots, a time zone) never overflow: an extreme instant is a 422 field error, not a 500.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, WithJsonSchema

from server.errors import FieldCode

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
_EARLIEST_TEXT = "1900-01-01T00:00:00Z"
_LATEST_TEXT = "2999-12-31T23:59:59Z"

INSTANT_OUT_OF_RANGE = FieldCode(
    "instant_out_of_range", "Date and time should be between {earliest} and {latest} (UTC)"
)
DAY_OUT_OF_RANGE = FieldCode("day_out_of_range", "Date should be between {earliest} and {latest}")


# The blanks of INSTANT_OUT_OF_RANGE's sentence.
BOUNDS = {"earliest": _EARLIEST_TEXT, "latest": _LATEST_TEXT}


def within_bounds(value: datetime) -> bool:
    """Whether offset-aware `value` lies in [EARLIEST, LATEST] (False also for an instant
    Python cannot even convert to UTC, such as 0001-01-01T00:00:00+14:00)."""
    try:
        return EARLIEST <= value.astimezone(UTC) <= LATEST
    except OverflowError:
        return False


def in_range(value: datetime) -> datetime:
    """`value` if `within_bounds`; else the field error `instant_out_of_range` (pydantic)."""
    if not within_bounds(value):
        raise INSTANT_OUT_OF_RANGE.error(**BOUNDS)
    return value


Instant = Annotated[
    AwareDatetime,
    AfterValidator(in_range),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "formatMinimum": _EARLIEST_TEXT,
            "formatMaximum": _LATEST_TEXT,
            "description": f"ISO 8601 with a UTC offset, from {_EARLIEST_TEXT} to {_LATEST_TEXT}.",
        }
    ),
]


def day_in_range(value: date) -> date:
    """`value` if it lies in the years of EARLIEST..LATEST; else the field error
    `day_out_of_range` (pydantic)."""
    if not EARLIEST.date() <= value <= LATEST.date():
        raise DAY_OUT_OF_RANGE.error(earliest=_EARLIEST_TEXT[:10], latest=_LATEST_TEXT[:10])
    return value


Day = Annotated[
    date,
    AfterValidator(day_in_range),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date",
            "formatMinimum": _EARLIEST_TEXT[:10],
            "formatMaximum": _LATEST_TEXT[:10],
            "description": f"ISO 8601 date, from {_EARLIEST_TEXT[:10]} to {_LATEST_TEXT[:10]}.",
        }
    ),
]
