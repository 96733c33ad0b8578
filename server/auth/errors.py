"""Auth failures; each renders as its own problem type."""

from __future__ import annotations

from server.errors import Conflict, MarkiniError, Unauthenticated


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
