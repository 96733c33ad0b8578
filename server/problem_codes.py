"""The stable code of a problem, for answers that are not problem+json bodies (GraphQL error
extensions, FHIR OperationOutcome details)."""

from __future__ import annotations

from server.errors import MarkiniError


def problem_code(error: MarkiniError) -> str:
    """The error's own `code` when it has one, else the last part of its problem type
    ("/problems/slot-taken" -> "slot-taken")."""
    code = getattr(error, "code", None)
    return str(code) if code else error.type.rsplit("/", 1)[-1]
