"""ICE servers for a caller: STUN URLs, plus coturn TURN REST credentials when configured.

TURN REST (coturn `use-auth-secret`): username = "<expiry-unix>:<user-id>", password =
base64(HMAC-SHA1(static-auth-secret, username)); coturn recomputes it, so nothing is stored.
See docs/coturn.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid

from server.settings import Settings
from server.teleconsult.schemas import IceServer


def turn_credentials(
    secret: str, user_id: uuid.UUID, ttl_s: int, now: float | None = None
) -> tuple[str, str]:
    expiry = int(now if now is not None else time.time()) + ttl_s
    username = f"{expiry}:{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers(
    settings: Settings, user_id: uuid.UUID, now: float | None = None
) -> list[IceServer]:
    """What to put in RTCConfiguration.iceServers (an empty list means host candidates only)."""
    servers: list[IceServer] = []
    if settings.stun_urls:
        servers.append(IceServer(urls=list(settings.stun_urls)))
    if settings.turn_secret is not None and settings.turn_urls:
        username, credential = turn_credentials(
            settings.turn_secret.get_secret_value(), user_id, settings.turn_credential_ttl_s, now
        )
        servers.append(
            IceServer(urls=list(settings.turn_urls), username=username, credential=credential)
        )
    return servers
