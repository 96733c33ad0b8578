"""Read-only fields of a resource, accepted back by its PUT: what GET returns, PUT takes as is.

A client that reads a resource, edits a field and sends it all back must not be refused for the
fields it did not touch (ids, versions, timestamps). They are declared on the input model as
`ReadOnly` (so OpenAPI lists them, marked readOnly), validated as anything and ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

from pydantic import BaseModel, Field

from server.errors import FieldCode, InvalidInput, Reason

ReadOnly = Annotated[
    Any,
    Field(
        default=None,
        description="Read-only: as GET returns it, accepted back and ignored (an id sent back "
        "must be the stored one).",
        json_schema_extra={"readOnly": True},
    ),
]


def read_only_fields(model: type[BaseModel]) -> frozenset[str]:
    """The names of `model`'s ReadOnly fields."""
    return frozenset(
        name
        for name, info in model.model_fields.items()
        if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("readOnly")
    )


READ_ONLY = FieldCode("read_only", "read-only: cannot be changed")
READ_ONLY_FIELDS = Reason("read-only-fields", "Read-only fields cannot be changed.")

# Sent back, these must still name the same thing: a PUT never moves a record to another owner.
IDENTITY_FIELDS = ("id", "user_id", "doctor_id")


def check_identity(body: BaseModel, current: Mapping[str, Any]) -> None:
    """422 when a read-only identity field sent back differs from the stored one."""
    errors = []
    for name in IDENTITY_FIELDS:
        sent = getattr(body, name, None) if name in body.model_fields_set else None
        if sent is None or name not in current:
            continue
        if str(sent).lower() != str(current[name]).lower():
            errors.append(READ_ONLY.at(name))
    if errors:
        raise InvalidInput(READ_ONLY_FIELDS, errors)


def non_null_in_schema(nullable: frozenset[str]) -> Callable[[dict[str, Any]], None]:
    """A partial update's `json_schema_extra`: its optional fields default to None to mean "left
    out", but only those in `nullable` may be sent as null; say so in OpenAPI."""

    def document(schema: dict[str, Any]) -> None:
        for name, field in schema.get("properties", {}).items():
            variants = field.get("anyOf", [])
            if name in nullable or field.get("readOnly") or {"type": "null"} not in variants:
                continue
            field.pop("default", None)
            rest = [variant for variant in variants if variant != {"type": "null"}]
            if len(rest) == 1:
                del field["anyOf"]
                field.update(rest[0])
            else:
                field["anyOf"] = rest

    return document
