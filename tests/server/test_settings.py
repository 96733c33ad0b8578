"""Secrets are never built in: production refuses to start without them, dev makes its own."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from server.crypto import FieldCipher
from server.settings import PUBLISHED_DATA_KEYS, PUBLISHED_SECRETS, SECRETS_FILE, Settings

GOOD_KEYS = "k1:" + "Q" * 43 + "="


def test_without_markini_env_the_server_is_production_and_refuses_missing_secrets(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("MARKINI_ENV", "MARKINI_JWT_SECRET", "MARKINI_DATA_KEYS"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValidationError, match="must be set in production"):
        Settings(data_dir=tmp_path)
    assert not (tmp_path / SECRETS_FILE).exists()


@pytest.mark.parametrize("env", ["dev", "test", "prod"])
def test_published_secrets_are_refused_in_every_mode(env: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="published"):
        Settings(env=env, data_dir=tmp_path, jwt_secret=SecretStr(PUBLISHED_SECRETS[0]))
    with pytest.raises(ValidationError, match="published"):
        Settings(
            env=env,
            data_dir=tmp_path,
            jwt_secret=SecretStr("s" * 40),
            data_keys=SecretStr(f"dev:{PUBLISHED_DATA_KEYS[0]}"),
        )


def test_a_short_jwt_secret_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        Settings(env="prod", jwt_secret=SecretStr("short"), data_keys=SecretStr(GOOD_KEYS))


def test_production_with_explicit_secrets_starts(tmp_path: Path) -> None:
    settings = Settings(
        env="prod",
        data_dir=tmp_path,
        jwt_secret=SecretStr("s" * 40),
        data_keys=SecretStr(GOOD_KEYS),
    )
    assert FieldCipher(settings).current_kid == "k1"
    assert not (tmp_path / SECRETS_FILE).exists()


def test_dev_mode_generates_random_secrets_once_and_keeps_them_private(tmp_path: Path) -> None:
    first = Settings(env="dev", data_dir=tmp_path)
    path = tmp_path / SECRETS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = Settings(env="dev", data_dir=tmp_path)
    assert again.jwt_secret.get_secret_value() == first.jwt_secret.get_secret_value()
    assert again.data_keys.get_secret_value() == first.data_keys.get_secret_value()
    assert len(first.jwt_secret.get_secret_value()) >= 32
    FieldCipher(first)  # the generated key is a valid AES-256 key
    other = Settings(env="dev", data_dir=tmp_path / "elsewhere")
    assert other.jwt_secret.get_secret_value() != first.jwt_secret.get_secret_value()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere", SECRETS_FILE]
