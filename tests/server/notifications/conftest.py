"""Fixtures of the notification tests: a real SMTP server (aiosmtpd) the app sends to."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from server.settings import Settings
from tests.conftest import EngineUrls, delete_stream, make_settings


@dataclass
class Mailbox:
    """What the SMTP server received; addresses in `refuse` get that reply code."""

    messages: list[EmailMessage] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.content
        assert isinstance(content, bytes)
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, port
    controller.stop()


@pytest.fixture
async def settings(
    database_url: str, engine_urls: EngineUrls, tmp_path: Path, smtp: tuple[Mailbox, int]
) -> AsyncIterator[Settings]:
    """The app's settings with email over SMTP to the test's server and quick workers."""
    settings = make_settings(
        database_url,
        engine_urls.nats_url,
        tmp_path,
        smtp_url=f"smtp://127.0.0.1:{smtp[1]}",
        notify_poll_interval_s=0.05,
    )
    yield settings
    await delete_stream(engine_urls.nats_url, settings.nats_stream)


@pytest.fixture
def mailbox(smtp: tuple[Mailbox, int]) -> Mailbox:
    return smtp[0]
