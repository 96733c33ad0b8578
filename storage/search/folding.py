"""The one text folding of search. Queries (server/search/queries.py) and indexed text (the
folded columns of `search.doctor_index`, the Elasticsearch documents) both go through `fold`, so
what people type and what is stored always compare in the same form."""

from __future__ import annotations

import unicodedata

# Letters that compatibility decomposition keeps whole but people type as plain Latin letters
# (after casefold, which already turns "ß" into "ss").
_LETTERS = str.maketrans(
    {"æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i", "ħ": "h"}
)


def fold(text: str) -> str:
    """Words in one comparable form: case, accents, ligatures, compatibility forms (full-width,
    "ﬁ") and punctuation aside, words separated by one space.

    NFC and NFD spellings fold alike ("He\\u0301le\\u0300ne" and "Hélène" -> "helene"), as do
    "Saint-Étienne" and "saint etienne" ("saint etienne"), "D’Arc" and "d'arc" ("d arc").
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LETTERS))
    kept = []
    for char in decomposed:
        category = unicodedata.category(char)
        if category == "Mn":  # accents and other marks laid over a letter
            continue
        # Spacing marks belong to their word (Indic vowel signs); anything else not a letter or
        # a digit separates words.
        kept.append(char if char.isalnum() or category[0] == "M" else " ")
    return " ".join("".join(kept).split())


def fold_words(text: str | None) -> list[str]:
    """The folded words of a text, in order; [] when it has none."""
    return fold(text).split() if text else []
