"""The one settings object, read from MARKINI_* variables; unset engine URLs mean embedded."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-only-secret-change-me-0123456789abcdef"
# 32 zero bytes, base64: good enough for a laptop, refused outside dev mode.
DEV_DATA_KEY = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MARKINI_", env_file=None, extra="ignore")

    env: Literal["dev", "test", "prod"] = "dev"
    # Beside the checkout rather than in $HOME: as root, embedded PostgreSQL runs as its own user,
    # which cannot enter /root.
    data_dir: Path = Path(".markini").absolute()

    database_url: str | None = None
    nats_url: str | None = None
    redis_url: str | None = None
    elasticsearch_url: str | None = None

    # One JetStream stream carries every domain event; tests use their own prefix to stay apart.
    nats_stream: str = "MARKINI"
    nats_subject_prefix: str = "markini"

    jwt_secret: SecretStr = SecretStr(DEV_SECRET)
    access_token_ttl_s: int = 900
    refresh_token_ttl_s: int = 30 * 24 * 3600
    reset_token_ttl_s: int = 3600
    # Comma-separated "key_id:base64key" pairs; the first one encrypts, all of them decrypt.
    data_keys: SecretStr = SecretStr(f"dev:{DEV_DATA_KEY}")

    max_body_bytes: int = 1_000_000
    login_rate_limit: str = "10/minute"
    forgot_rate_limit: str = "5/minute"
    db_pool_max: int = 20

    outbox_poll_interval_s: float = 0.2
    # A repeated POST with the same Idempotency-Key gets the first answer for this long.
    idempotency_key_ttl_s: int = 24 * 3600

    # Scheduling. A booking with a fee is held while the patient pays, when payments are on
    # (off until the payments issue lands: bookings are then scheduled at once).
    payments_required: bool = False
    hold_ttl_s: int = 300
    hold_sweep_interval_s: float = 5.0
    # Patients cancel or move an appointment themselves until this many hours before it.
    patient_cancel_cutoff_h: int = 24
    # Live sockets re-check their session this often, so a logout or revocation closes them.
    socket_session_check_s: float = 30.0
    public_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"

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

    @model_validator(mode="after")
    def _refuse_dev_secrets_outside_dev(self) -> Settings:
        if self.env == "prod":
            if self.jwt_secret.get_secret_value() == DEV_SECRET:
                raise ValueError("MARKINI_JWT_SECRET must be set outside dev mode")
            if DEV_DATA_KEY in self.data_keys.get_secret_value():
                raise ValueError("MARKINI_DATA_KEYS must be set outside dev mode")
        return self
