"""HTTP surface of the auth domain: /api/v1/auth/*."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from server.auth import mfa, password_reset, service, throttle
from server.auth.principal import CurrentPrincipal
from server.auth.schemas import (
    Accepted,
    ForgotPasswordRequest,
    LoginRequest,
    MfaChallenge,
    MfaCodeRequest,
    MfaEnrolment,
    RecoveryCodes,
    RefreshRequest,
    RegisterRequest,
    RegisterResponse,
    ResetPasswordRequest,
    SendMfaCodeRequest,
    TokenResponse,
    TokenValidity,
    UserOut,
    VerifyMfaRequest,
)
from server.auth.sessions import ClientInfo, refresh_session
from server.deps import EnginesDep
from server.errors import SIGN_IN, Unauthenticated
from server.problems import problem_responses

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
_bearer = HTTPBearer(auto_error=False)

_PROBLEMS: dict[int, str] = {
    400: "Malformed JSON, or an unknown reset token",
    401: "Missing, invalid or revoked credentials",
    409: "Conflicts with the current state",
    410: "Reset token expired or already used",
    413: "Request body too large",
    415: "Request body is not JSON",
    422: "Invalid fields (see `errors`)",
    429: "Too many attempts: wait the seconds the `Retry-After` header gives",
}

_THROTTLE = (
    "Wrong attempts are throttled without locking the owner out. A complete sign-in sets the "
    "`markini_device` cookie (HttpOnly, path `/api/v1/auth`, one year): from a client holding "
    "it, attempts on that account count on their own window (`MARKINI_LOGIN_RATE_LIMIT`, 10 a "
    "minute) and others' failures never delay them. Other clients are limited per address "
    "(the same limit, over every account they try) and share the account's recent failures: "
    "after `MARKINI_LOGIN_LOCKOUT_AFTER` (5) of them, each further failure makes them wait 1 s, "
    "2 s, 4 s, ... up to `MARKINI_LOGIN_LOCKOUT_MAX_S` (900 s). A refused attempt answers 429 "
    "with `Retry-After` (seconds) and is not checked. X-Forwarded-For is believed only from "
    "`MARKINI_TRUSTED_PROXIES`."
)


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    return problem_responses(_PROBLEMS, *codes)


def _client(request: Request) -> ClientInfo:
    # The direct peer, or the client a trusted proxy names (MARKINI_TRUSTED_PROXIES, server.app).
    host = request.client.host if request.client else None
    return ClientInfo(
        ip_address=host,
        user_agent=request.headers.get("user-agent"),
        device_cookie=request.cookies.get(throttle.DEVICE_COOKIE),
    )


def _no_store(response: Response) -> None:
    # RFC 6749 5.1: responses carrying tokens must not be cached.
    response.headers["Cache-Control"] = "no-store"


_BODY = (400, 413, 415, 422)


@router.post(
    "/register",
    status_code=201,
    summary="Create a patient or doctor account",
    responses=problems(*_BODY, 409),
)
async def register(body: RegisterRequest, engines: EnginesDep) -> RegisterResponse:
    return await service.register(engines, body)


@router.post(
    "/login",
    summary="Sign in; returns tokens, or an MFA challenge when two-factor is on",
    description=_THROTTLE,
    responses=problems(*_BODY, 401, 429),
)
async def login(
    body: LoginRequest,
    request: Request,
    response: Response,
    engines: EnginesDep,
) -> TokenResponse | MfaChallenge:
    _no_store(response)
    result = await service.login(engines, body, _client(request))
    if isinstance(result, TokenResponse):
        throttle.set_device_cookie(response, engines.settings, result.user.id)
    return result


@router.post(
    "/mfa/send-code",
    status_code=202,
    summary="Second sign-in step: send a one-time code by email or SMS",
    description=(
        "For an account with two-factor on: sends a 6-digit code (valid "
        "`MARKINI_MFA_OTP_TTL_S`, 5 minutes; one use; a new one replaces it) to the account's "
        "email or mobile; `/verify-mfa` accepts it like a TOTP. Limited per account "
        "(`MARKINI_MFA_OTP_RATE_LIMIT`, 3 per 10 minutes). 409 when no mobile is on file."
    ),
    responses=problems(*_BODY, 401, 409, 429),
)
async def send_mfa_code(
    body: SendMfaCodeRequest, response: Response, engines: EnginesDep
) -> Accepted:
    _no_store(response)
    await mfa.send_login_code(engines, body)
    return Accepted(detail=f"A sign-in code is on its way by {body.channel}.")


@router.post(
    "/verify-mfa",
    summary="Second sign-in step: exchange the mfa_token and a TOTP or recovery code for tokens",
    description=_THROTTLE,
    responses=problems(*_BODY, 401, 429),
)
async def verify_mfa(
    body: VerifyMfaRequest,
    request: Request,
    response: Response,
    engines: EnginesDep,
) -> TokenResponse:
    _no_store(response)
    tokens = await mfa.verify_login(engines, body, _client(request))
    throttle.set_device_cookie(response, engines.settings, tokens.user.id)
    return tokens


@router.post(
    "/refresh-token",
    summary="Rotate a refresh token; reusing a spent one ends its session",
    description=(
        "Within `MARKINI_REFRESH_GRACE_S` (30 s) of a rotation, the spent token presented again "
        "(two tabs refreshing at once) gets the same new refresh token, while that one is still "
        "the session's latest. Any other reuse answers 401 and revokes the whole session."
    ),
    responses=problems(*_BODY, 401),
)
async def refresh_token(
    body: RefreshRequest, response: Response, engines: EnginesDep
) -> TokenResponse:
    _no_store(response)
    return await refresh_session(engines, body.refresh_token)


@router.post(
    "/logout",
    status_code=204,
    summary="End the current session at once (its access and refresh tokens stop working)",
    responses=problems(401),
)
async def logout(principal: CurrentPrincipal, engines: EnginesDep) -> None:
    await service.logout(engines, principal)


@router.get(
    "/validate-token",
    summary="Check an access token and its session",
    responses=problems(401),
)
async def validate_token(
    *,
    principal: CurrentPrincipal,
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    engines: EnginesDep,
) -> TokenValidity:
    if credentials is None:  # current_principal has already refused this; keeps mypy honest
        raise Unauthenticated(SIGN_IN)
    return await service.validate_token(engines, principal, credentials.credentials)


@router.get("/me", summary="The signed-in account", responses=problems(401))
async def me(principal: CurrentPrincipal, engines: EnginesDep) -> UserOut:
    return await service.me(engines, principal)


@router.post(
    "/forgot-password",
    status_code=202,
    summary="Email a password-reset link (same answer whether or not the account exists)",
    responses=problems(*_BODY, 429),
)
async def forgot_password(
    body: ForgotPasswordRequest, request: Request, engines: EnginesDep
) -> Accepted:
    return await password_reset.forgot_password(engines, body.email, _client(request))


@router.post(
    "/reset-password",
    status_code=204,
    summary="Set a new password with an emailed token; signs out every session",
    responses=problems(*_BODY, 410),
)
async def reset_password(body: ResetPasswordRequest, engines: EnginesDep) -> None:
    await password_reset.reset_password(engines, body)


@router.post(
    "/mfa/enroll",
    summary="Start two-factor enrolment: a TOTP secret and its otpauth:// URI",
    responses=problems(401, 409),
)
async def mfa_enroll(
    response: Response,
    principal: CurrentPrincipal,
    engines: EnginesDep,
) -> MfaEnrolment:
    _no_store(response)
    return await mfa.enroll(engines, principal)


@router.post(
    "/mfa/confirm",
    summary="Turn two-factor on with a first code; returns one-time recovery codes",
    responses=problems(*_BODY, 401, 409, 429),
)
async def mfa_confirm(
    body: MfaCodeRequest,
    response: Response,
    principal: CurrentPrincipal,
    engines: EnginesDep,
) -> RecoveryCodes:
    _no_store(response)
    return await mfa.confirm(engines, principal, body.code)


@router.post(
    "/mfa/disable",
    status_code=204,
    summary="Turn two-factor off (needs a current code or a recovery code)",
    responses=problems(*_BODY, 401, 409, 429),
)
async def mfa_disable(
    body: MfaCodeRequest,
    principal: CurrentPrincipal,
    engines: EnginesDep,
) -> None:
    await mfa.disable(engines, principal, body.code)
