"""Where messages go: SMTP (aiosmtplib) and Twilio (official SDK, aiohttp client), or the dev
mailbox when neither is configured. A provider says whether a failure is worth retrying.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, parseaddr
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client as TwilioClient

from server.settings import Settings
from storage.notify.messages import Message

log = logging.getLogger(__name__)

# Twilio error codes that no retry can cure: invalid 'To', unsubscribed (STOP), not a mobile,
# unreachable destination or region, blocked.
TWILIO_PERMANENT_CODES = frozenset({21211, 21408, 21610, 21612, 21614, 30003, 30004, 30005, 30006})


class DeliveryFailed(Exception):
    """The provider refused the message; `permanent`: no retry (bad address, unsubscribed)."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


class Provider(Protocol):
    name: str

    async def send(self, message: Message) -> str | None:
        """Hand the message over; returns the provider's id for it. Raises DeliveryFailed."""
        ...


def message_id_header(message: Message) -> str:
    """Stable per message: a resend carries the same Message-ID, which mail systems dedupe."""
    return f"<{message.id}@markini>"


def email_of(message: Message, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject or ""
    email["Message-ID"] = message_id_header(message)
    email.set_content(message.body)
    if message.calendar is not None:
        method = "CANCEL" if "METHOD:CANCEL" in message.calendar else "REQUEST"
        email.add_attachment(
            message.calendar.encode(),
            maintype="text",
            subtype="calendar",
            filename="invite.ics",
            params={"method": method, "charset": "utf-8"},
        )
    return email


class SmtpProvider:
    name = "smtp"

    def __init__(self, url: str, sender: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("MARKINI_SMTP_URL must start with smtp:// or smtps://")
        self._options: dict[str, Any] = {
            "hostname": parts.hostname or "127.0.0.1",
            "port": parts.port or (465 if parts.scheme == "smtps" else 587),
            "use_tls": parts.scheme == "smtps",
            "username": unquote(parts.username) if parts.username else None,
            "password": unquote(parts.password) if parts.password else None,
            "timeout": 30,
        }
        name, address = parseaddr(sender)
        self.sender = formataddr((name, address))

    async def send(self, message: Message) -> str | None:
        email = email_of(message, self.sender)
        try:
            # start_tls=None: STARTTLS when the server offers it.
            await aiosmtplib.send(email, start_tls=None, **self._options)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            raise DeliveryFailed(str(exc), permanent=all(500 <= c < 600 for c in codes)) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise DeliveryFailed(str(exc), permanent=500 <= exc.code < 600) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:  # connection, timeout: try again
            raise DeliveryFailed(repr(exc), permanent=False) from exc
        return message_id_header(message)


class BaseUrlTwilioHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """The SDK's aiohttp client, sending to `base` instead of https://api.twilio.com."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base.rstrip("/")

    async def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        path = urlsplit(url)
        rebased = f"{self.base}{path.path}" + (f"?{path.query}" if path.query else "")
        return await super().request(method, rebased, *args, **kwargs)


class TwilioProvider:
    name = "twilio"

    def __init__(self, account_sid: str, auth_token: str, sender: str, api_base: str | None):
        http_client = BaseUrlTwilioHttpClient(api_base) if api_base else AsyncTwilioHttpClient()
        self.client = TwilioClient(account_sid, auth_token, http_client=http_client)
        self.sender = sender

    async def send(self, message: Message) -> str | None:
        try:
            sent = await self.client.messages.create_async(
                to=message.recipient, from_=self.sender, body=message.body
            )
        except TwilioRestException as exc:
            permanent = exc.code in TWILIO_PERMANENT_CODES or (
                400 <= exc.status < 500 and exc.status not in (408, 429)
            )
            raise DeliveryFailed(
                f"twilio {exc.status} {exc.code}: {exc.msg}", permanent=permanent
            ) from exc
        except Exception as exc:  # aiohttp connection errors, timeouts
            raise DeliveryFailed(repr(exc), permanent=False) from exc
        sid: str | None = sent.sid
        return sid

    async def close(self) -> None:
        http: Any = self.client.http_client
        await http.close()


@dataclass
class Providers:
    email: Provider | None  # None: the dev mailbox
    sms: Provider | None

    def for_channel(self, channel: str) -> Provider | None:
        return self.email if channel == "email" else self.sms


def email_provider(settings: Settings) -> SmtpProvider | None:
    """SMTP when configured; None means the dev mailbox."""
    if settings.smtp_url is None:
        return None
    return SmtpProvider(settings.smtp_url.get_secret_value(), settings.mail_from)


def sms_provider(settings: Settings) -> TwilioProvider | None:
    """Twilio when configured; None means the dev mailbox."""
    if not (settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from):
        return None
    return TwilioProvider(
        settings.twilio_account_sid,
        settings.twilio_auth_token.get_secret_value(),
        settings.twilio_from,
        settings.twilio_api_base,
    )
