"""The one settings object, read from MARKINI_* variables; unset engine URLs mean embedded.

Secrets are never built in. In production (the default) the JWT secret and the data keys must be
set; an explicit dev or test mode generates random ones on first start and keeps them in the data
dir (`secrets.json`, mode 0600), so a laptop's sessions and encrypted fields survive restarts.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger(__name__)

# Values this project once shipped as defaults: published, so refused everywhere.
PUBLISHED_SECRETS = ("dev-only-secret-change-me-0123456789abcdef",)
PUBLISHED_DATA_KEYS = ("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",)
SECRETS_FILE = "secrets.json"
# HS256 wants at least as many key bytes as the hash (RFC 7518 §3.2).
MIN_JWT_SECRET_BYTES = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MARKINI_", env_file=None, extra="ignore")

    # Production unless said otherwise: a forgotten variable must not open a server with secrets
    # anyone can read. MARKINI_ENV=dev (or test) makes its own secrets in the data dir.
    env: Literal["dev", "test", "prod"] = "prod"
    # Beside the checkout rather than in $HOME: as root, embedded PostgreSQL runs as its own user,
    # which cannot enter /root.
    data_dir: Path = Path(".markini").absolute()

    database_url: str | None = None
    nats_url: str | None = None
    redis_url: str | None = None
    # After Redis fails, rate limits count in this node's memory and Redis is tried again this
    # often (server/ratelimit.py).
    redis_retry_s: float = 5.0
    elasticsearch_url: str | None = None

    # One JetStream stream carries every domain event; tests use their own prefix to stay apart.
    nats_stream: str = "MARKINI"
    nats_subject_prefix: str = "markini"

    # Empty means unset: refused in prod, generated and kept in the data dir in dev and test.
    jwt_secret: SecretStr = SecretStr("")
    access_token_ttl_s: int = 900
    refresh_token_ttl_s: int = 30 * 24 * 3600
    # Two tabs refreshing at once present the same token: within this window after a rotation,
    # the spent token gets the same successor back instead of revoking the session as reuse.
    refresh_grace_s: int = 30
    reset_token_ttl_s: int = 3600
    # Comma-separated "key_id:base64key" pairs; the first one encrypts, all of them decrypt.
    data_keys: SecretStr = SecretStr("")

    max_body_bytes: int = 1_000_000
    # Per address for unknown clients, per device for known ones (server/auth/throttle.py).
    login_rate_limit: str = "10/minute"
    # Past this many recent failures on one account, unknown clients wait 1 s, 2 s, 4 s, ...
    # (capped) after each further failure; known devices never wait for others' failures.
    login_lockout_after: int = 5
    login_lockout_max_s: int = 900
    # Failures count towards those delays for this long after the first of them.
    login_failure_window_s: int = 3600
    # Proxies (IPs or CIDR networks, a JSON list) whose X-Forwarded-For and X-Forwarded-Proto are
    # believed; from any other peer those headers are ignored. Default: none.
    trusted_proxies: list[str] = []
    forgot_rate_limit: str = "5/minute"
    db_pool_max: int = 20

    outbox_poll_interval_s: float = 0.2
    # A repeated POST with the same Idempotency-Key gets the first answer for this long.
    idempotency_key_ttl_s: int = 24 * 3600

    # Scheduling. A booking with a fee is held while the patient pays, when payments are on
    # (`tools/dev.py up` turns them on; off, bookings are scheduled at once and nothing is paid).
    payments_required: bool = False
    hold_ttl_s: int = 300
    hold_sweep_interval_s: float = 5.0
    # Patients cancel or move an appointment themselves until this many hours before it.
    patient_cancel_cutoff_h: int = 24
    # Live sockets re-check their session this often, so a logout or revocation closes them.
    socket_session_check_s: float = 30.0
    public_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"

    # Payments (server/payments). With a secret key, Stripe itself (webhook secret and
    # publishable key required); without, a localstripe server: the one at stripe_api_base
    # (tests share one), else an embedded one Markini starts and registers its webhook with.
    stripe_api_key: SecretStr | None = None
    stripe_publishable_key: str | None = None
    stripe_webhook_secret: SecretStr | None = None
    stripe_api_base: str | None = None
    # Stripe's own default: a signed event older than this is a replay and refused.
    stripe_webhook_tolerance_s: int = 300
    # Included in the fee and shown on invoices (medical care is often exempt: 0).
    invoice_tax_percent: float = 0.0

    # Teleconsultation. Parties may join from this long before the start until the grace after
    # the end: a doctor running late or a consultation that overruns must not be cut off.
    consult_join_early_s: int = 15 * 60
    consult_grace_s: int = 30 * 60
    # A join token only lets a socket into one call; a rejoin asks for a fresh one.
    consult_join_token_ttl_s: int = 300
    # coturn's static-auth-secret and URLs (TURN REST credentials, docs/coturn.md). Without
    # them peers get the STUN URLs only (none: host candidates, enough on one network).
    # Lists are JSON in the environment: MARKINI_TURN_URLS='["turn:turn.example:3478"]'.
    turn_secret: SecretStr | None = None
    turn_urls: list[str] = []
    stun_urls: list[str] = []
    turn_credential_ttl_s: int = 3600

    # Notifications (server/notifications). Email goes over SMTP when MARKINI_SMTP_URL is set
    # (smtp://user:password@host:587 with STARTTLS when offered, smtps://... for implicit TLS),
    # SMS through Twilio when the account SID, auth token and sender are set; otherwise both land
    # in the dev mailbox (PostgreSQL, admin page). MARKINI_TWILIO_API_BASE points the SDK at
    # another host (a local stand-in in tests).
    smtp_url: SecretStr | None = None
    mail_from: str = "Markini <no-reply@markini.test>"
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from: str | None = None
    twilio_api_base: str | None = None
    # Workers look for due messages and reminders this often (and at once after each batch).
    notify_poll_interval_s: float = 1.0
    # A message left 'sending' this long lost its worker: it counts as possibly sent.
    notify_send_lease_s: int = 120
    # Default reminder offsets (minutes before the start); doctors set their own.
    reminder_offsets_minutes: list[int] = [1440, 60]
    # One-time MFA codes by email or SMS: lifetime, sends per user and wrong tries per code.
    mfa_otp_ttl_s: int = 300
    mfa_otp_rate_limit: str = "3/10 minutes"
    mfa_otp_max_attempts: int = 5

    @model_validator(mode="after")
    def _secrets(self) -> Settings:
        """Refuse published or missing secrets in prod; generate and keep them in dev/test."""
        jwt_secret = self.jwt_secret.get_secret_value()
        data_keys = self.data_keys.get_secret_value()
        if jwt_secret in PUBLISHED_SECRETS or any(k in data_keys for k in PUBLISHED_DATA_KEYS):
            raise ValueError("MARKINI_JWT_SECRET / MARKINI_DATA_KEYS hold a published value")
        if jwt_secret and len(jwt_secret.encode()) < MIN_JWT_SECRET_BYTES:
            raise ValueError(f"MARKINI_JWT_SECRET needs at least {MIN_JWT_SECRET_BYTES} bytes")
        if self.stripe_api_key and not (self.stripe_webhook_secret and self.stripe_publishable_key):
            raise ValueError(
                "MARKINI_STRIPE_API_KEY needs MARKINI_STRIPE_WEBHOOK_SECRET and "
                "MARKINI_STRIPE_PUBLISHABLE_KEY"
            )
        if jwt_secret and data_keys:
            return self
        if self.env == "prod":
            raise ValueError(
                "MARKINI_JWT_SECRET and MARKINI_DATA_KEYS must be set in production; "
                "for a laptop, set MARKINI_ENV=dev (random secrets kept in the data dir)"
            )
        kept = local_secrets(self.data_dir)
        self.jwt_secret = SecretStr(jwt_secret or kept["jwt_secret"])
        self.data_keys = SecretStr(data_keys or kept["data_keys"])
        return self


def local_secrets(data_dir: Path) -> dict[str, str]:
    """Dev/test secrets of this data dir, made at random on first use (file mode 0600)."""
    path = data_dir / SECRETS_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    fresh = {
        "jwt_secret": secrets.token_urlsafe(48),
        "data_keys": "local:" + base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    # Written aside then linked into place: atomic, and two nodes starting at once agree.
    draft = data_dir / f".{SECRETS_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(fresh, out)
    try:
        os.link(draft, path)
    except FileExistsError:
        os.chmod(path, 0o600)  # tighten a copy made by hand
        kept: dict[str, str] = json.loads(path.read_text())
        return kept
    finally:
        draft.unlink()
    log.warning("generated dev secrets", extra={"path": str(path)})
    return fresh
