"""Field-level encryption at rest: AES-256-GCM with the key id stored beside the ciphertext.

`settings.data_keys` lists "kid:base64key" pairs; the first key encrypts, every listed key
decrypts, so keys rotate by putting a new key first and re-encrypting at leisure
(`FieldCipher.needs_rotation` tells which stored values still use an old key).
"""

from __future__ import annotations

import base64
import binascii
import os
from typing import TypedDict

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from server.settings import Settings

KEY_BYTES = 32  # AES-256
# 96-bit random nonces, GCM's native size; with random nonces NIST caps one key at 2**32 messages,
# far above what a field key sees between rotations.
NONCE_BYTES = 12


class EncryptedField(TypedDict):
    kid: str
    nonce: str
    ct: str


class DecryptionError(Exception):
    """The value was tampered with, bound to other data (aad), or its key is gone."""


def parse_data_keys(spec: str) -> dict[str, bytes]:
    """Parse "kid:base64key,kid2:key2" into an ordered {kid: key} mapping (first = current)."""
    keys: dict[str, bytes] = {}
    for part in spec.split(","):
        kid, sep, encoded = part.strip().partition(":")
        if not sep or not kid or not encoded:
            raise ValueError("data keys must look like 'kid:base64key,kid2:base64key'")
        try:
            key = base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"data key {kid!r} is not valid base64") from exc
        if len(key) != KEY_BYTES:
            raise ValueError(f"data key {kid!r} must be {KEY_BYTES} bytes, got {len(key)}")
        if kid in keys:
            raise ValueError(f"data key id {kid!r} is listed twice")
        keys[kid] = key
    return keys


class FieldCipher:
    """Encrypt and decrypt text fields; `aad` binds a value to its row (e.g. the owner id)."""

    def __init__(self, settings: Settings) -> None:
        keys = parse_data_keys(settings.data_keys.get_secret_value())
        self._ciphers = {kid: AESGCM(key) for kid, key in keys.items()}
        self.current_kid = next(iter(keys))

    def encrypt(self, plaintext: str, aad: bytes = b"") -> EncryptedField:
        nonce = os.urandom(NONCE_BYTES)
        ct = self._ciphers[self.current_kid].encrypt(nonce, plaintext.encode(), aad)
        return {"kid": self.current_kid, "nonce": _b64(nonce), "ct": _b64(ct)}

    def decrypt(self, value: EncryptedField | dict[str, str], aad: bytes = b"") -> str:
        try:
            cipher = self._ciphers[value["kid"]]
            nonce = base64.b64decode(value["nonce"], validate=True)
            ct = base64.b64decode(value["ct"], validate=True)
            return cipher.decrypt(nonce, ct, aad).decode()
        except KeyError as exc:
            raise DecryptionError(f"no data key for this value ({exc})") from exc
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise DecryptionError("the encrypted value does not verify") from exc

    def needs_rotation(self, value: EncryptedField | dict[str, str]) -> bool:
        return value.get("kid") != self.current_kid

    def reencrypt(self, value: EncryptedField | dict[str, str], aad: bytes = b"") -> EncryptedField:
        """Decrypt with whatever key made it, encrypt with the current key."""
        return self.encrypt(self.decrypt(value, aad), aad)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
