"""Search finds what people type (issue #19): NFC and NFD spellings, case, accents, ligatures
and punctuation between words fold alike on the query side and on the indexed side, for the
free text, suggestions and the city and specialty filters, on every backend."""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterator
from typing import Any

import pytest

from storage.search.folding import fold
from tests.factories import make_doctor
from tests.server.search.helpers import SUGGEST, SearchEnv, names, reindex_now

pytestmark = pytest.mark.any_hour


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


DOCTORS: list[dict[str, Any]] = [
    dict(first_name="Hélène", last_name="Henry", city="Paris"),
    dict(first_name="Hélène", last_name="Martin", city="Lyon"),
    # Stored decomposed, as pasted from a PDF: the indexed side folds too.
    dict(first_name=nfd("Hélène"), last_name="Rousseau", city=nfd("Nîmes")),
    dict(
        first_name="Jeanne",
        last_name="D'Arc",
        city="Saint-Étienne",
        specializations=["pediatrics"],
    ),
    dict(first_name="Noémie", last_name="Œuvrard", city="Genève"),
    dict(first_name="Jürgen", last_name="Straße", city="Strasbourg"),
]


@pytest.fixture(scope="module")
async def env(search_env: SearchEnv) -> AsyncIterator[SearchEnv]:
    for fields in DOCTORS:
        await make_doctor(search_env.db, search_env.settings, **fields)
    await reindex_now(search_env.settings)
    yield search_env


def test_fold_is_one_form_for_every_spelling() -> None:
    assert fold("He\u0301le\u0300ne") == fold("Hélène") == fold("HÉLÈNE") == "helene"
    assert (
        fold("Saint-Étienne") == fold("saint etienne") == fold("SAINT–ÉTIENNE") == "saint etienne"
    )
    assert fold("D'Arc") == fold("D’Arc") == fold("d arc") == "d arc"
    assert fold("Œuvrard") == "oeuvrard" and fold("Straße") == fold("STRASSE") == "strasse"
    assert fold("ﬁlle  Ｍａｒｔｉｎ") == "fille martin"  # ligature, full-width letters
    assert fold(" ,;- ") == ""


async def test_folded_words_are_the_words_postgresql_indexes(env: SearchEnv) -> None:
    """The stored keys feed to_tsvector('simple', ...): it must split them only at spaces."""
    samples = ["Hélène Henry", "Saint-Étienne", "D’Arc", "Œuvrard 3e", "Ἀθῆναι", "Москва-Сити"]
    for sample in samples:
        folded = fold(sample)
        lexemes = await env.db.fetchval(
            "SELECT array_agg(l ORDER BY l) FROM unnest(tsvector_to_array("
            "to_tsvector('simple', $1::text))) l",
            folded,
        )
        assert lexemes == sorted(set(folded.split())), sample


@pytest.mark.parametrize(
    "q", ["He\u0301le\u0300ne Henry", "Hélène Henry", "HÉLÈNE HENRY", "helene henry"]
)
async def test_the_issue_s_name_is_found_in_every_spelling(env: SearchEnv, q: str) -> None:
    assert await names(env.client, q=q) == ["Hélène Henry"]


@pytest.mark.parametrize("q", ["he\u0301le\u0300", "hélè", "HÉLÈ", "Hele"])
async def test_suggestions_complete_every_helene(env: SearchEnv, q: str) -> None:
    response = await env.client.get(SUGGEST, params={"q": q})
    assert response.status_code == 200, response.text
    doctors = [s["label"] for s in response.json()["items"] if s["type"] == "doctor"]
    assert sorted(fold(d) for d in doctors) == [
        "helene henry",
        "helene martin",
        "helene rousseau",
    ]


async def test_a_name_stored_decomposed_is_found_as_typed(env: SearchEnv) -> None:
    assert await names(env.client, q="Hélène Rousseau") == [nfd("Hélène") + " Rousseau"]
    assert await names(env.client, city="Nîmes") == [nfd("Hélène") + " Rousseau"]


@pytest.mark.parametrize(
    "city", ["Saint-Étienne", "saint etienne", "SAINT-ETIENNE", nfd("Saint-Étienne"), "st"]
)
async def test_the_city_filter_ignores_case_accents_and_hyphens(env: SearchEnv, city: str) -> None:
    expected = [] if city == "st" else ["Jeanne D'Arc"]
    assert await names(env.client, city=city) == expected
    assert await names(env.client, location=city) == expected


@pytest.mark.parametrize("q", ["D'Arc", "d’arc", "D ARC", "jeanne d arc saint etienne"])
async def test_apostrophes_and_hyphens_separate_words_on_both_sides(env: SearchEnv, q: str) -> None:
    assert await names(env.client, q=q) == ["Jeanne D'Arc"]


@pytest.mark.parametrize("q", ["oeuvrard", "ŒUVRARD", "strasse", "Straße"])
async def test_ligatures_and_sharp_s_fold_to_their_letters(env: SearchEnv, q: str) -> None:
    found = await names(env.client, q=q)
    assert len(found) == 1 and fold(found[0]).split()[1] == fold(q)


@pytest.mark.parametrize("specialty", [nfd("Pédiatrie"), "PÉDIATRIE", "pediatrie", "Pediatrics"])
async def test_the_specialty_filter_folds_too(env: SearchEnv, specialty: str) -> None:
    assert await names(env.client, specialty=specialty) == ["Jeanne D'Arc"]


async def test_city_suggestions_fold_the_typed_prefix(env: SearchEnv) -> None:
    for typed in ("saint-e", "SAINT E", nfd("Saint-É")):
        response = await env.client.get(SUGGEST, params={"q": typed})
        cities = [s["value"] for s in response.json()["items"] if s["type"] == "city"]
        assert cities == ["Saint-Étienne"], typed
