"""Field encryption: AES-256-GCM values carry their key id, so keys rotate without downtime."""

from __future__ import annotations

import base64
import os

import pytest
from pydantic import SecretStr

from server.crypto import DecryptionError, FieldCipher, parse_data_keys
from server.settings import Settings


def key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def cipher(spec: str) -> FieldCipher:
    return FieldCipher(
        Settings(env="prod", jwt_secret=SecretStr("j" * 32), data_keys=SecretStr(spec))
    )


def test_round_trip_is_bound_to_its_aad() -> None:
    c = cipher(f"k1:{key()}")
    value = c.encrypt("asthma since 2009", b"patient:1")
    assert value["kid"] == "k1"
    assert "asthma" not in value["ct"]
    assert c.decrypt(value, b"patient:1") == "asthma since 2009"
    with pytest.raises(DecryptionError):
        c.decrypt(value, b"patient:2")


def test_same_plaintext_encrypts_differently_each_time() -> None:
    c = cipher(f"k1:{key()}")
    assert c.encrypt("x")["nonce"] != c.encrypt("x")["nonce"]


def test_tampered_ciphertext_does_not_decrypt() -> None:
    c = cipher(f"k1:{key()}")
    value = c.encrypt("penicillin allergy")
    raw = bytearray(base64.b64decode(value["ct"]))
    raw[0] ^= 1
    with pytest.raises(DecryptionError):
        c.decrypt({**value, "ct": base64.b64encode(bytes(raw)).decode()})
    with pytest.raises(DecryptionError):
        c.decrypt({**value, "nonce": "not base64!"})


def test_rotation_new_key_encrypts_old_key_still_decrypts() -> None:
    old_key, new_key = key(), key()
    before = cipher(f"2024:{old_key}")
    stored = before.encrypt("type 2 diabetes", b"row-7")

    after = cipher(f"2025:{new_key},2024:{old_key}")
    assert after.decrypt(stored, b"row-7") == "type 2 diabetes"
    assert after.needs_rotation(stored)
    rotated = after.reencrypt(stored, b"row-7")
    assert rotated["kid"] == "2025" and not after.needs_rotation(rotated)

    retired = cipher(f"2025:{new_key}")
    assert retired.decrypt(rotated, b"row-7") == "type 2 diabetes"
    with pytest.raises(DecryptionError):
        retired.decrypt(stored, b"row-7")


def test_same_key_id_with_another_key_fails_loudly() -> None:
    stored = cipher(f"k1:{key()}").encrypt("secret")
    with pytest.raises(DecryptionError):
        cipher(f"k1:{key()}").decrypt(stored)


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "nokey",
        "k1:",
        "k1:not-base64!!",
        f"k1:{base64.b64encode(os.urandom(16)).decode()}",  # AES-128: refused
        f"k1:{key()},k1:{key()}",
    ],
    # Stable ids: pytest-xdist workers must collect the same names for these random keys.
    ids=["empty", "no-key", "no-material", "not-base64", "aes-128", "duplicate-id"],
)
def test_bad_key_specs_are_refused(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_data_keys(spec)
