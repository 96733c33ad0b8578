"""Typed domain errors; app code raises them and server.problems renders RFC 9457 bodies.

Every problem body carries a stable machine `code` (and `params` for the blanks of its sentence),
every field error a `code` too: clients translate by code (the web app does, English and
French) and fall back to the English `detail` / `message` for a code they do not know. The
catalogues below list every code the server can send; `tests/server/test_problem_codes.py`
checks the web app translates each one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic_core import PydanticCustomError

# code -> English sentence (blanks `{name}` filled from `params`), for problem bodies ...
PROBLEM_CODES: dict[str, str] = {}
# ... and for field errors (`errors[].code`): our own checks' codes and pydantic's error types.
FIELD_CODES: dict[str, str] = {}

Params = Mapping[str, str | int | float]


def _declare(catalogue: dict[str, str], code: str, english: str) -> None:
    if catalogue.setdefault(code, english) != english:
        raise ValueError(f"code {code!r} declared twice with different sentences")


@dataclass(frozen=True)
class Reason:
    """Why a request was refused, more precisely than its problem type: a stable code and its
    English sentence. Raise `SomeError(REASON, params={...})`."""

    code: str
    english: str

    def __post_init__(self) -> None:
        _declare(PROBLEM_CODES, self.code, self.english)

    def text(self, params: Params) -> str:
        return self.english.format(**params)


@dataclass(frozen=True)
class FieldCode:
    """What is wrong with one field: a stable code and its English sentence."""

    code: str
    english: str

    def __post_init__(self) -> None:
        _declare(FIELD_CODES, self.code, self.english)

    def at(self, field: str, location: str = "body", **params: str | int | float) -> dict[str, Any]:
        """A field error of a problem's `errors` (`field` is a dotted path: `rules.2.end`)."""
        return {
            "field": field,
            "location": location,
            "message": self.english.format(**params),
            "code": self.code,
            "params": params,
        }

    def error(self, **params: str | int | float) -> PydanticCustomError:
        """For a pydantic validator to raise: the field error then carries this code."""
        return PydanticCustomError(self.code, self.english, params)


class MarkiniError(Exception):
    status: int = 400
    title: str = "Bad request"
    type: str = "about:blank"
    # Stable machine code; a subclass with its own `type` gets that type's last segment.
    code: str = "bad-request"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in vars(cls) and "type" in vars(cls):
            cls.code = cls.type.rsplit("/", 1)[-1]
        PROBLEM_CODES.setdefault(cls.code, cls.title)

    def __init__(
        self, detail: str | Reason | None = None, *, params: Params | None = None, **extra: Any
    ) -> None:
        self.params = dict(params or {})
        if isinstance(detail, Reason):
            self.code = detail.code
            detail = detail.text(self.params)
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra


PROBLEM_CODES.setdefault(MarkiniError.code, MarkiniError.title)


class InvalidInput(MarkiniError):
    status = 422
    title = "Invalid input"
    type = "/problems/invalid-input"

    def __init__(
        self,
        detail: str | Reason,
        errors: list[dict[str, Any]] | None = None,
        *,
        params: Params | None = None,
    ) -> None:
        super().__init__(detail, params=params, errors=errors or [])


class Unauthenticated(MarkiniError):
    status = 401
    title = "Authentication required"
    type = "/problems/unauthenticated"


class Forbidden(MarkiniError):
    status = 403
    title = "Forbidden"
    type = "/problems/forbidden"


class NotFound(MarkiniError):
    status = 404
    title = "Not found"
    type = "/problems/not-found"


class Conflict(MarkiniError):
    status = 409
    title = "Conflict"
    type = "/problems/conflict"


class RateLimited(MarkiniError):
    status = 429
    title = "Too many requests"
    type = "/problems/rate-limited"


class PayloadTooLarge(MarkiniError):
    status = 413
    title = "Payload too large"
    type = "/problems/payload-too-large"


class UnsupportedMediaType(MarkiniError):
    status = 415
    title = "Unsupported media type"
    type = "/problems/unsupported-media-type"


class ServiceUnavailable(MarkiniError):
    status = 503
    title = "Service unavailable"
    type = "/problems/unavailable"


# Refusals and field errors several domains share.
NO_SUCH_APPOINTMENT = Reason("no-such-appointment", "No such appointment.")
NO_SUCH_DOCTOR = Reason("no-such-doctor", "No such doctor.")
NO_SUCH_PATIENT = Reason("no-such-patient", "No such patient.")
NO_SUCH_ACCOUNT = Reason("no-such-account", "The account no longer exists.")
SIGN_IN = Reason("sign-in-required", "Sign in to continue.")
ROLE_NOT_ALLOWED = Reason("role-not-allowed", "Your role does not allow this action.")
TOO_MANY_ATTEMPTS = Reason("too-many-attempts", "Too many attempts; try again later.")
FIELDS_INVALID = Reason("fields-invalid", "Some fields are missing or invalid.")
UNKNOWN_VISIT_REASON = FieldCode("unknown_visit_reason", "unknown visit reason")
NOT_NULL = FieldCode("not_null", "these fields cannot be null: {fields}")
INVALID_EMAIL = FieldCode("invalid_email", "The email address is not valid: {reason}")
