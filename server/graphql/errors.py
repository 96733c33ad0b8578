"""GraphQL errors carry the REST problem of the same failure in `extensions`.

A resolver raises the domain's MarkiniError exactly as the REST route would; this extension
copies its problem (`type`, `title`, `status`, `code`, and members such as `errors` or
`alternatives`) into the error's `extensions`. Unexpected exceptions are logged and masked
("Internal error", code `internal-error`), as the REST 500 is.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from pydantic import ValidationError
from strawberry.extensions import SchemaExtension

from server.errors import FIELDS_INVALID, FieldCode, InvalidInput, MarkiniError, Reason
from server.problems import INTERNAL_ERROR

log = logging.getLogger(__name__)

NOT_AN_ID = Reason("not-an-id", "`{field}` is not an id.")
NOT_A_UUID = FieldCode("not_a_uuid", "not a UUID")
# GraphQL's own refusals of a request: graphql-core's message says what is wrong.
INVALID_QUERY = Reason("invalid-query", "The query is not valid for this schema.")
QUERY_TOO_COSTLY = Reason(
    "query-too-costly",
    "The query costs {cost}, more than the {max_cost} allowed: ask for fewer items (`limit`) "
    "or fewer nested lists.",
)
OWN_APPOINTMENTS_ROLE = Reason(
    "own-appointments-role", "Only patients and doctors have appointments of their own."
)


def problem_extensions(error: MarkiniError) -> dict[str, Any]:
    extra = json.loads(json.dumps(error.extra, default=str))  # JSON-safe, like the REST body
    return {
        "type": error.type,
        "title": error.title,
        "status": error.status,
        "code": error.code,
        **extra,
    }


def invalid_input(exc: ValidationError, location: str = "input") -> InvalidInput:
    """A pydantic refusal of GraphQL input, as the REST 422 lists it."""
    return InvalidInput(
        FIELDS_INVALID,
        [
            {
                "field": ".".join(str(p) for p in err["loc"]),
                "location": location,
                "message": err["msg"],
                "code": err["type"],
                "params": err.get("ctx", {}),
            }
            for err in exc.errors()
        ],
    )


class ProblemErrors(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        result.errors = [self._render(error) for error in result.errors]

    @staticmethod
    def _render(error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if original is None:  # syntax, validation, limits: a malformed request
            extensions = {"code": INVALID_QUERY.code, "status": 400, **(error.extensions or {})}
            return _with(error, error.message, extensions)
        if isinstance(original, ValidationError):
            original = invalid_input(original)
        if isinstance(original, MarkiniError):
            return _with(error, original.detail, problem_extensions(original))
        log.error("graphql resolver failed", exc_info=original)
        return _with(
            error,
            INTERNAL_ERROR.english,
            {
                "type": "about:blank",
                "title": "Internal error",
                "status": 500,
                "code": INTERNAL_ERROR.code,
            },
        )


def _with(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions=extensions,
    )
