"""Auth failures; each renders as its own problem type."""

from __future__ import annotations

from server.errors import Conflict, FieldCode, MarkiniError, Reason, Unauthenticated


class EmailTaken(Conflict):
    title = "Email already registered"
    type = "/problems/email-taken"


class InvalidCredentials(Unauthenticated):
    # One answer for unknown email, wrong password and disabled account: no enumeration.
    title = "Invalid credentials"
    type = "/problems/invalid-credentials"


class InvalidRefreshToken(Unauthenticated):
    title = "Invalid refresh token"
    type = "/problems/invalid-refresh-token"


class InvalidMfaCode(Unauthenticated):
    title = "Invalid verification code"
    type = "/problems/invalid-mfa-code"


class MfaAlreadyEnabled(Conflict):
    title = "Two-factor authentication already enabled"
    type = "/problems/mfa-already-enabled"


class MfaNotEnrolled(Conflict):
    title = "Two-factor authentication not enrolled"
    type = "/problems/mfa-not-enrolled"


class ResetTokenInvalid(MarkiniError):
    status = 400
    title = "Invalid reset token"
    type = "/problems/reset-token-invalid"


class ResetTokenGone(MarkiniError):
    # 410: the token existed but is spent or expired; the user must ask for a new link.
    status = 410
    title = "Reset token expired or already used"
    type = "/problems/reset-token-gone"


INVALID_LOGIN = Reason("invalid-login", "Invalid email or password.")
WRONG_CODE = Reason("wrong-mfa-code", "The verification code is wrong or was already used.")
MFA_STEP_EXPIRED = Reason(
    "mfa-step-expired", "The sign-in step expired or is invalid; sign in again."
)
MFA_ON = Reason("mfa-on", "Two-factor authentication is already on; disable it first.")
MFA_OFF = Reason("mfa-off", "Two-factor authentication is not on; start with enrolment.")
EMAIL_IN_USE = Reason("email-in-use", "An account with this email already exists.")
PASSWORD_POLICY = Reason("password-policy", "The password does not meet the policy.")
RESET_LINK_INVALID = Reason("reset-link-invalid", "This reset link is not valid.")
RESET_LINK_GONE = Reason(
    "reset-link-gone", "This reset link has expired or was already used; ask again."
)
TOKEN_INVALID = Reason("access-token-invalid", "The access token is invalid or expired.")
SESSION_ENDED = Reason("session-ended", "The session has ended; sign in again.")
OWN_RECORDS = Reason("own-records", "You can only access your own records.")
REFRESH_INVALID = Reason(
    "refresh-token-invalid", "The refresh token is invalid, expired or already used."
)
PROFILE_ROLE = Reason("profile-role", "Only {role}s (or admins) create {role} profiles.")
OWN_PROFILE = Reason("own-profile", "A {role} creates their own profile only.")
SELF_SUSPEND = Reason("self-suspend", "You cannot suspend your own account.")
OWN_ROLE = Reason("own-role", "You cannot change your own role.")
WRONG_PASSWORD = Reason("wrong-password", "The password is not correct.")
NAME_ACCOUNT = Reason("name-the-account", "Admins must name the {role} account (user_id).")

# Field errors of sign-up, password changes and profile creation.
PASSWORD_TOO_SHORT = FieldCode("password_too_short", "Use at least {min_length} characters.")
PASSWORD_TOO_LONG = FieldCode("password_too_long", "Use at most {max_length} characters.")
PASSWORD_TOO_SIMPLE = FieldCode("password_too_simple", "Use more varied characters.")
PASSWORD_TOO_COMMON = FieldCode("password_too_common", "This password is too common.")
PASSWORD_HAS_EMAIL = FieldCode("password_contains_email", "Do not put your email in your password.")
REQUIRED_FOR_PATIENTS = FieldCode("required_for_patients", "Required for patients.")
ACCOUNT_REQUIRED = FieldCode("account_required", "required")
NOT_AN_ACCOUNT_OF_ROLE = FieldCode("not_account_of_role", "not an active {role} account")
