"""HTTP routes of notifications: the bell, preferences, reminder settings, the dev mailbox."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal
from urllib.parse import parse_qsl

from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from server.audit.masking import storable
from server.auth.principal import CurrentPrincipal, Principal, require_role
from server.deps import EnginesDep, PoolDep
from server.errors import Forbidden, NotFound
from server.instants import Instant
from server.notifications import service
from server.notifications.inbound import answer_sms
from server.notifications.ports import LiveNotifications, get_live_notifications, pushing
from server.notifications.schemas import (
    DeliveryLog,
    Mailbox,
    MarkRead,
    NotificationPage,
    Preferences,
    ReminderSettings,
    UnreadCount,
)
from server.problems import problem_responses

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])
_admin = require_role("admin")

_R: dict[int, str] = {
    401: "Not signed in.",
    403: "The caller's role does not allow this.",
    404: "The doctor account has no doctor profile.",
    422: "The body or a parameter is malformed.",
}


@router.get(
    "",
    response_model=NotificationPage,
    summary="My in-app notifications (the bell)",
    description="Newest first, with the unread count. Live ones arrive on /notifications.",
    responses=problem_responses(_R, 401, 422),
)
async def list_notifications(
    principal: CurrentPrincipal,
    pool: PoolDep,
    before: Annotated[Instant | None, Query(description="Older than this.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = service.PAGE,
) -> NotificationPage:
    return await service.notifications_page(pool, principal, before, limit)


@router.post(
    "/read",
    response_model=UnreadCount,
    summary="Mark notifications read",
    description="Marks the caller's own notifications `ids` read (all of them when null).",
    responses=problem_responses(_R, 401, 422),
)
async def mark_read(
    principal: CurrentPrincipal, pool: PoolDep, body: Annotated[MarkRead, Body()]
) -> UnreadCount:
    return UnreadCount(unread_count=await service.mark_read(pool, principal, body.ids))


@router.get(
    "/preferences",
    response_model=Preferences,
    summary="My message preferences",
    responses=problem_responses(_R, 401),
)
async def get_preferences(principal: CurrentPrincipal, pool: PoolDep) -> Preferences:
    return await service.get_preferences(pool, principal)


@router.put(
    "/preferences",
    response_model=Preferences,
    summary="Set my message preferences",
    description="Language, time zone, mobile number (stored in E.164) and channels.",
    responses=problem_responses(_R, 401, 422),
)
async def put_preferences(
    principal: CurrentPrincipal, pool: PoolDep, body: Annotated[Preferences, Body()]
) -> Preferences:
    return await service.save_preferences(pool, principal, body)


@router.get(
    "/reminder-settings",
    response_model=ReminderSettings,
    summary="My practice's reminders (doctors)",
    responses=problem_responses(_R, 401, 403, 404),
)
async def get_reminder_settings(
    principal: CurrentPrincipal, engines: EnginesDep
) -> ReminderSettings:
    return await service.get_reminder_settings(engines.pool, engines.settings, principal)


@router.put(
    "/reminder-settings",
    response_model=ReminderSettings,
    summary="Set my practice's reminders (doctors)",
    description="Up to 4 offsets in minutes before the start; for appointments booked or "
    "moved from now on.",
    responses=problem_responses(_R),
)
async def put_reminder_settings(
    principal: CurrentPrincipal, pool: PoolDep, body: Annotated[ReminderSettings, Body()]
) -> ReminderSettings:
    return await service.save_reminder_settings(pool, principal, body)


@router.get(
    "/dev-mailbox",
    response_model=Mailbox,
    summary="The dev mailbox (admins)",
    description="Email and SMS delivered here when no SMTP server or Twilio account is set.",
    responses=problem_responses(_R, 401, 403, 422),
)
async def get_dev_mailbox(
    pool: PoolDep,
    principal: Principal = Depends(_admin),
    channel: Annotated[Literal["email", "sms"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Mailbox:
    return await service.dev_mailbox(pool, channel, limit)


@router.get(
    "/deliveries",
    response_model=DeliveryLog,
    summary="The delivery log of an appointment's messages (admins)",
    description="Every email and SMS about the appointment: status, attempts, provider id.",
    responses=problem_responses(_R, 401, 403, 422),
)
async def get_deliveries(
    pool: PoolDep,
    appointment_id: Annotated[uuid.UUID, Query()],
    principal: Principal = Depends(_admin),
) -> DeliveryLog:
    return await service.delivery_log(pool, appointment_id)


INBOUND_SMS_PATH = "/sms/inbound"
_TWIML = "application/xml"


@router.post(
    INBOUND_SMS_PATH,
    summary="Twilio's inbound SMS webhook (two-way reminders)",
    description=(
        "Twilio posts each SMS sent to MARKINI_TWILIO_FROM here (form-encoded: From, Body, ...), "
        'signed with X-Twilio-Signature over MARKINI_PUBLIC_URL + this path. "C 1234" '
        'confirms, "A 1234" cancels (within the patients\' cut-off) the appointment of the '
        "reminder with that reference; the answer is TwiML with the reply SMS, the same for a "
        "retry of the same MessageSid. A confirm or cancel is audited in its own transaction "
        "(`appointment.sms_confirm` / `appointment.sms_cancel`, by the patient the number "
        "identified): when that entry cannot be written nothing changes and the reply says to "
        "try again; when no entry at all can be written, a 503."
    ),
    response_class=Response,
    responses={
        200: {"description": "TwiML reply", "content": {_TWIML: {"schema": {"type": "string"}}}},
        **problem_responses(
            {403: "Missing or wrong Twilio signature.", 404: "SMS replies are off (no Twilio)."}
        ),
    },
)
async def inbound_sms(
    request: Request,
    engines: EnginesDep,
    live: LiveNotifications | None = Depends(get_live_notifications),
    signature: Annotated[str | None, Header(alias="X-Twilio-Signature")] = None,
) -> Response:
    settings = engines.settings
    if settings.twilio_auth_token is None:
        raise NotFound("SMS replies are off: no Twilio account is configured.")
    params = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
    url = settings.public_url.rstrip("/") + router.prefix + INBOUND_SMS_PATH
    validator = RequestValidator(settings.twilio_auth_token.get_secret_value())
    if not signature or not validator.validate(url, params, signature):
        raise Forbidden("The request is not signed by Twilio.")
    # Signed as sent, but a texted NUL (UCS-2 carries one) is no text PostgreSQL stores.
    sid, sender, body = (storable(params.get(k, "")) for k in ("MessageSid", "From", "Body"))
    async with pushing(live):  # the doctor's bell rings once the answer is recorded
        text = await answer_sms(engines, sid, sender, body)
    twiml = MessagingResponse()
    twiml.message(text)
    return Response(str(twiml), media_type=_TWIML)
