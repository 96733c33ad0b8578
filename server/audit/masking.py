"""Mask secrets and health data in request payloads before they enter the audit log.

The audit log records *that* a field was sent, never its value: keys are matched by name,
case-insensitively and ignoring `_`/`-`, anywhere in the JSON tree. Over-masking is the safe side.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from server.textguard import UNSTORABLE

MASK = "***"
REPLACEMENT = "\ufffd"

# A payload larger than this is recorded as a size only: the trail is not a copy of uploads.
MAX_RECORDED_BYTES = 64 * 1024

# Substrings of normalised key names (lowercase, no separators) whose values are masked.
_SENSITIVE_PARTS = (
    # credentials and one-time secrets
    "password",
    "passwd",
    "token",
    "secret",
    "otp",
    "mfa",
    "recoverycode",
    "apikey",
    "authorization",
    "cookie",
    "cvc",
    "cvv",
    "cardnumber",
    "iban",
    # health data and identifiers that come with it
    "note",
    "condition",
    "diagnos",
    "medicalhistory",
    "allerg",
    "medication",
    "prescri",
    "symptom",
    "treatment",
    "reason",
    "insurance",
    "dateofbirth",
    "ssn",
    "socialsecurity",
)
# Whole key names too short or common to match as substrings.
_SENSITIVE_KEYS = {"code", "pin", "dob", "nir"}
_SEPARATORS = re.compile(r"[_\-\s.]")


def is_sensitive_key(key: str) -> bool:
    name = _SEPARATORS.sub("", key.lower())
    return name in _SENSITIVE_KEYS or any(part in name for part in _SENSITIVE_PARTS)


def storable(text: str) -> str:
    """`text` with NULs and unpaired surrogates (which jsonb refuses) replaced by U+FFFD."""
    return UNSTORABLE.sub(REPLACEMENT, text)


def mask(value: Any) -> Any:
    """A copy of a decoded JSON value with sensitive fields replaced by "***".

    Every key and string is made storable too: an entry that cannot be written is an action
    that cannot happen (the middleware then refuses it), so no input may make the write fail.
    """
    if isinstance(value, dict):
        return {
            storable(str(k)): MASK if is_sensitive_key(str(k)) else mask(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask(v) for v in value]
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # Python's json accepts NaN/Infinity; jsonb does not
    return value


def masked_body(body: bytes, size: int | None = None) -> Any:
    """Decode a request body for the audit log: masked JSON, or a note saying what it was.

    `size` is the body's full length when only its first bytes were kept.
    """
    size = len(body) if size is None else size
    if size > MAX_RECORDED_BYTES:
        return {"_omitted": "too large", "_bytes": size}
    if not body:
        return None
    try:
        return mask(json.loads(body))
    except (ValueError, RecursionError):
        # Not JSON: the raw bytes could hold anything, so only their size is kept.
        return {"_omitted": "not json", "_bytes": size}
