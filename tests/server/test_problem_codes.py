"""The error code contract: every code the server can send has words in the web app, in English
and in French, with the same blanks (README, "Error codes")."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path
from typing import get_args

import pytest

import server.app  # noqa: F401  (imports every domain, so every code is declared)
from realtime.protocol import ErrorCode
from server.errors import FIELD_CODES, PROBLEM_CODES, FieldCode, InvalidInput, Reason
from server.problems import documented_problem_schema, render_error

STRINGS = Path(__file__).resolve().parents[2] / "web" / "src" / "lib" / "errorStrings.json"
WEB = json.loads(STRINGS.read_text(encoding="utf-8"))
ALL_KEYS = (
    [f"problem.{code}" for code in PROBLEM_CODES]
    + [f"field.{code}" for code in FIELD_CODES]
    + [f"socket.{code}" for code in get_args(ErrorCode)]
)


def _blanks(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_code_the_server_sends_has_words_in_each_language(language: str) -> None:
    words = WEB[language]
    missing = [key for key in ALL_KEYS if not words.get(key, "").strip()]
    assert not missing, f"web/src/lib/errorStrings.json lacks {language}: {missing}"


def test_the_web_app_has_no_words_for_codes_the_server_never_sends() -> None:
    assert set(WEB["en"]) == set(ALL_KEYS)
    assert set(WEB["fr"]) == set(ALL_KEYS)


def test_french_fills_the_same_blanks_as_english() -> None:
    differ = {
        key: WEB["en"][key]
        for key in ALL_KEYS
        if _blanks(WEB["en"][key]) != _blanks(WEB["fr"][key])
    }
    assert not differ


def test_the_web_blanks_are_values_the_server_gives() -> None:
    """A web sentence may only use blanks the server's own sentence has (its params), or
    `retry_after`, which every 429 carries."""
    for code, english in PROBLEM_CODES.items():
        assert _blanks(WEB["en"][f"problem.{code}"]) <= _blanks(english) | {"retry_after"}, code
    for code, english in FIELD_CODES.items():
        assert _blanks(WEB["en"][f"field.{code}"]) <= _blanks(english), code


def test_codes_are_stable_identifiers() -> None:
    for code in [*PROBLEM_CODES, *FIELD_CODES]:
        assert re.fullmatch(r"[a-z][a-z0-9_-]*", code), code


def test_a_code_cannot_be_declared_twice_with_two_meanings() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        Reason("slot-taken", "Something else entirely.")
    with pytest.raises(ValueError, match="declared twice"):
        FieldCode("missing", "Something else entirely.")


def test_a_problem_body_carries_its_code_params_and_field_codes() -> None:
    body = json.loads(
        render_error(
            InvalidInput(
                Reason("range-too-long", "Ask for at most {days} days at a time."),
                [
                    FieldCode("range_over_max", "range longer than {days} days").at(
                        "to", "query", days=31
                    )
                ],
                params={"days": 31},
            )
        ).body
    )
    assert body["code"] == "range-too-long"
    assert body["params"] == {"days": 31}
    assert body["detail"] == "Ask for at most 31 days at a time."
    assert body["errors"] == [
        {
            "field": "to",
            "location": "query",
            "message": "range longer than 31 days",
            "code": "range_over_max",
            "params": {"days": 31},
        }
    ]


def test_the_openapi_problem_schema_lists_every_code() -> None:
    assert documented_problem_schema()["properties"]["code"]["enum"] == sorted(PROBLEM_CODES)
