"""What storage raises instead of driver errors: the schema refused a write.

Storage does not know what a refusal means to a person; the domain service maps the constraint's
name to its own error (a slot just taken, a licence number already registered, ...).
"""

from __future__ import annotations


class ConstraintViolation(Exception):
    """A unique or exclusion constraint refused a write; `constraint` is its name in the schema."""

    def __init__(self, constraint: str) -> None:
        super().__init__(constraint)
        self.constraint = constraint


class StaleRead(Exception):
    """What the caller read before the write changed meanwhile (`what` names it): read again."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class AuditNotWritten(Exception):
    """A statement that writes a change with its audit entry could not write the entry (SQLSTATE
    MKA01): nothing was changed."""
