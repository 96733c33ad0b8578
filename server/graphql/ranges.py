"""The `from`/`to` arguments of GraphQL fields, checked as the REST query parameters are
(server.instants.Instant: with an offset, within the supported years)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from server.graphql.errors import invalid_input
from server.instants import Instant


class _Range(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: Instant | None = Field(None, alias="from")
    to: Instant | None = None


def instant_range(
    from_: dt.datetime | None, to: dt.datetime | None
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """(from, to) as given, or InvalidInput listing the argument that is naive or out of range."""
    try:
        checked = _Range.model_validate({"from": from_, "to": to})
    except ValidationError as exc:
        raise invalid_input(exc, "arguments") from exc
    return checked.from_, checked.to
