"""Every payload is storable: NULs and unpaired surrogates become U+FFFD in keys and values."""

from __future__ import annotations

from server.audit.masking import mask, masked_body


def test_nul_and_lone_surrogates_are_replaced_in_keys_and_values() -> None:
    masked = mask({"k\x00": "a\ud800b", "list": ["\udfff", {"x\ud83d": "\x00"}], "note": "\x00"})
    assert masked == {
        "k\ufffd": "a\ufffdb",
        "list": ["\ufffd", {"x\ufffd": "\ufffd"}],
        "note": "***",
    }


def test_an_escaped_lone_surrogate_in_a_body_is_recorded_storably() -> None:
    assert masked_body(b'{"x": "\\ud800", "ok": "\\ud83d\\ude00"}') == {
        "x": "\ufffd",
        "ok": "\U0001f600",  # a proper pair is a character, kept
    }
