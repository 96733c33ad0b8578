"""What a queued message says, worked out at send time, so no secret rests in the outbox in clear.

A message that carries a secret (a password-reset link) is queued with no body: the template's
parameters go to `notify.outbox.params`, the secret sealed with the field cipher and bound to the
message id (a sealed token copied onto another row does not open). The sender calls
`render_queued` just before sending. Messages without a secret keep their text in `body`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from server.crypto import EncryptedField, FieldCipher
from server.settings import Settings
from storage import notify as store

PASSWORD_RESET = "password-reset"


@dataclass(frozen=True)
class RenderedMessage:
    id: uuid.UUID
    channel: str
    recipient: str
    subject: str | None
    body: str


class UnrenderableMessage(Exception):
    """A queued message whose template is unknown or whose sealed secret does not open."""


def _aad(message_id: uuid.UUID) -> bytes:
    return f"notify.outbox:{message_id}".encode()


def seal(settings: Settings, message_id: uuid.UUID, secret: str) -> EncryptedField:
    """The secret as it rests in the outbox row `message_id`: encrypted, bound to that row."""
    return FieldCipher(settings).encrypt(secret, _aad(message_id))


def password_reset_params(
    settings: Settings, message_id: uuid.UUID, token: str, ttl_s: int
) -> dict[str, Any]:
    return {"token": seal(settings, message_id, token), "ttl_s": ttl_s}


def _password_reset(settings: Settings, message: store.QueuedMessage) -> str:
    token = FieldCipher(settings).decrypt(message.params["token"], _aad(message.id))
    link = f"{settings.public_url.rstrip('/')}/reset-password?token={token}"
    minutes = max(1, int(message.params["ttl_s"]) // 60)
    return (
        "Someone (hopefully you) asked to reset your Markini password.\n\n"
        f"Choose a new password here: {link}\n\n"
        f"The link works once and expires in {minutes} minutes. "
        "If you did not ask for it, ignore this email: your password stays as it is.\n"
    )


_RENDERERS: dict[str, Callable[[Settings, store.QueuedMessage], str]] = {
    PASSWORD_RESET: _password_reset,
}


def render(settings: Settings, message: store.QueuedMessage) -> RenderedMessage:
    """The text to send for `message`; its secret, if any, exists in clear only in the result."""
    renderer = _RENDERERS.get(message.template)
    try:
        body = renderer(settings, message) if renderer is not None else message.body
    except Exception as exc:  # a missing key or a secret that does not open: never send half
        raise UnrenderableMessage(f"message {message.id} ({message.template})") from exc
    if body is None:
        raise UnrenderableMessage(f"message {message.id}: no body and no renderer")
    return RenderedMessage(message.id, message.channel, message.recipient, message.subject, body)


async def render_queued(
    db: store.Db, settings: Settings, message_id: uuid.UUID
) -> RenderedMessage | None:
    """The one call a sender makes per queued message: fetch it and render it (None if gone)."""
    message = await store.queued_message(db, message_id)
    return render(settings, message) if message is not None else None
