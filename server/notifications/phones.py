"""Phone numbers in E.164 (phonenumbers): what SMS are sent to and replies come from."""

from __future__ import annotations

import phonenumbers

# Numbers typed without a country code are read as French (the practices' home market).
DEFAULT_REGION = "FR"


def to_e164(raw: str, region: str = DEFAULT_REGION) -> str:
    """'06 12 34 56 78' -> '+33612345678'; raises ValueError for an impossible number."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {exc}") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
