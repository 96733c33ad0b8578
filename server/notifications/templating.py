"""Message texts: one Jinja2 template per kind and language (templates/<lang>/<kind>.j2).

A template has blocks: `subject` and `text` (email), `sms`, `title` and `summary` (the bell).
Dates are written in the recipient's language and zone with Babel; the practice's local time is
added when the recipient's zone differs from the doctor's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from jinja2 import Environment, PackageLoader, StrictUndefined

Language = Literal["en", "fr"]
LANGUAGES: tuple[Language, ...] = ("en", "fr")
BLOCKS = ("subject", "text", "sms", "title", "summary")
WHEN_PATTERN = "EEEE d MMMM y, HH:mm"

# Plain text only (email text part, SMS, the bell's text nodes): no HTML autoescape.
_ENV = Environment(  # noqa: S701 - text templates, never rendered into HTML
    loader=PackageLoader("server.notifications", "templates"),
    undefined=StrictUndefined,
    autoescape=False,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Text:
    subject: str
    text: str
    sms: str
    title: str
    summary: str


def render(kind: str, language: str, **context: Any) -> Text:
    """Every block of the kind's template; a missing block is ''. Raises on a missing variable."""
    template = _ENV.get_template(f"{_language(language)}/{kind}.j2")
    ctx = template.new_context(context)
    for _ in template.root_render_func(ctx):  # runs the top-level imports the blocks use
        pass
    parts = {
        name: "".join(template.blocks[name](ctx)).strip() if name in template.blocks else ""
        for name in BLOCKS
    }
    return Text(**parts)


def _language(language: str) -> Language:
    return "fr" if language == "fr" else "en"


def when(instant: datetime, time_zone: str, language: str) -> str:
    """`instant` as the recipient reads it: "Monday 3 March 2030, 10:00"."""
    return format_datetime(
        instant, WHEN_PATTERN, tzinfo=ZoneInfo(time_zone), locale=_language(language)
    )


def when_pair(
    instant: datetime, recipient_zone: str | None, practice_zone: str, language: str
) -> tuple[str, str | None]:
    """(time in the recipient's zone, the practice's local time when the zones differ)."""
    zone = recipient_zone or practice_zone
    local = when(instant, zone, language)
    if zone == practice_zone:
        return local, None
    practice = format_datetime(
        instant, "HH:mm zzzz", tzinfo=ZoneInfo(practice_zone), locale=_language(language)
    )
    return local, practice
