"""Which requests take an Idempotency-Key, and the key's shape: shared by the middleware and
the OpenAPI document, so a new POST route is covered (and documented) without a line of its own.
"""

from __future__ import annotations

import re
from datetime import timedelta

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
API_PREFIX = "/api/v1/"
# Sign-in, token refresh, MFA and password reset answer with credentials, which must never sit in
# a replay table; and they are safe to repeat by hand. The key is ignored there.
EXCLUDED_PREFIXES = ("/api/v1/auth/",)
# The IETF draft leaves the syntax to the server: printable ASCII, like Stripe's 255 characters.
KEY_PATTERN = re.compile(r"[\x20-\x7e]{1,255}")
# A claim not finished within this long belongs to a node that died: a repeat may take it over.
# Far longer than any of our handlers runs.
IN_FLIGHT_LEASE = timedelta(seconds=60)
# Seconds a repeat is told to wait (Retry-After) while the first request still runs.
IN_FLIGHT_RETRY_AFTER_S = 1


def takes_key(method: str, path: str) -> bool:
    """Every POST under /api/v1 changes state, except the credential-answering auth routes."""
    return (
        method == "POST" and path.startswith(API_PREFIX) and not path.startswith(EXCLUDED_PREFIXES)
    )
