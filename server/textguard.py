"""Pure-ASGI middleware: refuse text PostgreSQL cannot store, before any handler sees it.

PostgreSQL text and jsonb reject NUL, and UTF-8 has no lone surrogates (JSON's "\\ud800"
escapes decode to one). Either, in any string or key of a JSON body, in the query string or in
the path, would reach the driver and fail as a 500 after part of a change. Checking every request
here, once, makes that a 422 problem naming the field, whatever the route.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from pydantic import AfterValidator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.errors import FieldCode, InvalidInput
from server.problems import render_error

# NUL and the surrogate range: never valid text for PostgreSQL.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# C0 control characters but tab, LF and CR: storable, yet no name or text means them, and FHIR R4
# strings (as well as mails, PDFs and SMS) must not carry them.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Field errors listed in one answer; a body full of bad strings needs no longer list.
MAX_REPORTED = 20


def unstorable_paths(value: Any, path: str = "") -> Iterator[str]:
    """Dotted paths of the strings and keys of a decoded JSON value that hold bad text."""
    if isinstance(value, str):
        if UNSTORABLE.search(value):
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            name = UNSTORABLE.sub("\ufffd", str(key))
            child = f"{path}.{name}" if path else name
            if UNSTORABLE.search(str(key)):
                yield child
            yield from unstorable_paths(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from unstorable_paths(item, f"{path}.{index}" if path else str(index))


class TextGuardMiddleware:
    """422 for NUL or lone surrogates anywhere in the path, query string or a JSON body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        errors = [_error("path", "path")] if UNSTORABLE.search(scope["path"]) else []
        query = scope.get("query_string", b"").decode("latin-1")
        for name, value in parse_qsl(query, keep_blank_values=True, errors="replace"):
            if UNSTORABLE.search(name) or UNSTORABLE.search(value):
                errors.append(_error(UNSTORABLE.sub("\ufffd", name), "query"))
        messages: list[Message] = []
        if scope["method"] in ("POST", "PUT", "PATCH"):
            messages, body = await _read_body(receive)
            errors += [_error(p, "body") for p in _body_paths(body)]
        if errors:
            response = render_error(
                InvalidInput(
                    "Text may not contain NUL characters or unpaired surrogates.",
                    errors[:MAX_REPORTED],
                )
            )
            await response(scope, receive, send)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


UNSTORABLE_TEXT = FieldCode("unstorable_text", "contains a NUL character or an unpaired surrogate")


CONTROL_CHARACTER = FieldCode("control_character", "contains a control character")


def _no_control(value: str) -> str:
    if CONTROL.search(value):
        raise CONTROL_CHARACTER.error()
    return value


# For every person name and free text a request stores: `Annotated[str, ..., Printable]` makes a
# control character a 422 field error (`control_character`).
Printable = AfterValidator(_no_control)


def without_controls(text: str) -> str:
    """`text` with each control character (CONTROL) replaced by U+FFFD, for rows stored before
    Printable refused them."""
    return CONTROL.sub("\ufffd", text)


def _error(field: str, location: str) -> dict[str, Any]:
    return UNSTORABLE_TEXT.at(field, location)


async def _read_body(receive: Receive) -> tuple[list[Message], bytes]:
    """The whole body (BodyGuardMiddleware, outside, has already bounded it)."""
    messages: list[Message] = []
    more = True
    while more:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        more = message.get("more_body", False)
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
    return messages, body


def _body_paths(body: bytes) -> list[str]:
    if not body or (b"\\u" not in body and b"\x00" not in body):
        return []  # raw NULs are invalid JSON anyway; only escapes can smuggle bad text in
    try:
        decoded = json.loads(body)
    except (ValueError, RecursionError):
        return []  # the route answers malformed JSON itself
    return list(unstorable_paths(decoded))
