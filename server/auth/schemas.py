"""Request and response bodies of /api/v1/auth."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from server.auth.passwords import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH
from server.auth.principal import Role
from server.errors import INVALID_EMAIL
from server.textguard import Printable


def normalise_email(value: str) -> str:
    """Syntax check (no DNS) and one canonical form: addresses are compared case-insensitively."""
    try:
        # test_environment admits the reserved .test domain our demo and test accounts use.
        checked = validate_email(value.strip(), check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise INVALID_EMAIL.error(reason=str(exc)) from exc
    return checked.normalized.lower()


Email = Annotated[
    str,
    Field(max_length=254, json_schema_extra={"format": "email"}),
    AfterValidator(normalise_email),
]
# Length is checked again by the policy; here it only bounds what we accept at all.
NewPassword = Annotated[str, Field(min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH)]
AnyPassword = Annotated[str, Field(min_length=1, max_length=1024)]
Name = Annotated[str, Field(min_length=1, max_length=100, pattern=r"\S"), Printable]
OneTimeCode = Annotated[
    str, Field(min_length=6, max_length=32, description="TOTP or recovery code")
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterRequest(_Body):
    email: Email
    password: NewPassword
    role: Literal["patient", "doctor"] = Field(
        "patient", description="Doctors start unverified until an admin verifies them."
    )
    first_name: Name | None = Field(None, description="Required for patients.")
    last_name: Name | None = Field(None, description="Required for patients.")


class LoginRequest(_Body):
    email: Email
    password: AnyPassword


class RefreshRequest(_Body):
    refresh_token: str = Field(min_length=1, max_length=512)


class ForgotPasswordRequest(_Body):
    email: Email


class ResetPasswordRequest(_Body):
    token: str = Field(min_length=1, max_length=512)
    new_password: NewPassword


class VerifyMfaRequest(_Body):
    mfa_token: str = Field(min_length=1, max_length=2048)
    code: OneTimeCode


class SendMfaCodeRequest(_Body):
    """Ask for a one-time sign-in code by email or SMS instead of opening the TOTP app."""

    mfa_token: str = Field(min_length=1, max_length=2048)
    channel: Literal["email", "sms"]


class MfaCodeRequest(_Body):
    code: OneTimeCode


class UserOut(BaseModel):
    id: uuid.UUID
    email: Annotated[str, Field(json_schema_extra={"format": "email"})]
    role: Role
    is_verified: bool
    mfa_enabled: bool
    created_at: datetime


class RegisterResponse(BaseModel):
    user: UserOut
    patient_id: uuid.UUID | None = Field(None, description="The new patient profile, if any.")


class TokenResponse(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")
    user: UserOut


class MfaChallenge(BaseModel):
    mfa_required: Literal[True] = True
    mfa_token: str = Field(description="Exchange it with a code at /api/v1/auth/verify-mfa.")
    expires_in: int


class TokenValidity(BaseModel):
    valid: Literal[True] = True
    user_id: uuid.UUID
    role: Role
    expires_at: datetime


class Accepted(BaseModel):
    detail: str


class MfaEnrolment(BaseModel):
    secret: str = Field(description="Base32 TOTP secret, for manual entry.")
    otpauth_uri: str = Field(description="otpauth:// URI, to show as a QR code.")


class RecoveryCodes(BaseModel):
    recovery_codes: list[str] = Field(description="Shown once; each works once instead of a TOTP.")
