"""GET /api/v1/search/doctors over a known set of doctors (indexed by the reindex path):
relevance, accents and typos, every filter and sort, facets, pages, and refused input."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from server import clock
from storage.search import es_queries, postgres
from tests.server.search import dataset
from tests.server.search.dataset import NAMES, PARIS
from tests.server.search.helpers import SEARCH, SearchEnv, names, search


@pytest.fixture(scope="module")
async def env(search_env: SearchEnv) -> AsyncIterator[SearchEnv]:
    await dataset.seed(search_env)
    yield search_env


def _names(*keys: str) -> list[str]:
    return [NAMES[k] for k in keys]


async def test_exact_name_ranks_above_a_mention_in_a_bio(env: SearchEnv) -> None:
    found = await names(env.client, q="Lefèvre")
    assert found == _names("lefevre", "durand")


async def test_unverified_doctors_never_appear(env: SearchEnv) -> None:
    everyone = await search(env.client, size=50)
    assert everyone["total"] == len(dataset.DOCTORS)
    assert "Hélène Lefèvre" not in [i["name"] for i in everyone["items"]]
    assert "Hélène Lefèvre" not in await names(env.client, q="Hélène")


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("Lefevre", "lefevre"),  # no accent typed
        ("LEFÈVRE", "lefevre"),
        ("lefebre", "lefevre"),  # one wrong letter
        ("Claire Lefev", "lefevre"),  # still typing
        ("dermatologue", "martin"),  # near the French name, Dermatologie
        ("pédiatrie", "bernard"),
        ("pediatrics", "bernard"),
    ],
)
async def test_text_is_accent_and_typo_tolerant(env: SearchEnv, q: str, expected: str) -> None:
    assert (await names(env.client, q=q))[0] == NAMES[expected]


async def test_a_word_start_matches_specialties_and_a_city(env: SearchEnv) -> None:
    assert sorted(await names(env.client, q="cardio")) == sorted(_names("lefevre", "dubois"))
    assert await names(env.client, q="cardio versailles") == _names("dubois")


async def test_specialty_filter_takes_a_code_or_a_name_in_either_language(env: SearchEnv) -> None:
    expected = sorted(_names("lefevre", "dubois"))
    for specialty in ("cardiology", "Cardiologie", "cardiologie", "Cardiology"):
        assert sorted(await names(env.client, specialty=specialty)) == expected


async def test_place_filters_city_postcode_and_location(env: SearchEnv) -> None:
    paris = sorted(_names("lefevre", "martin", "durand"))
    assert sorted(await names(env.client, city="PARIS")) == paris
    assert sorted(await names(env.client, location="paris")) == paris
    assert sorted(await names(env.client, postcode="75")) == paris
    assert await names(env.client, location="75011") == _names("lefevre")
    assert await names(env.client, location="Lyon") == _names("bernard")


async def test_rating_fee_language_and_new_patient_filters(env: SearchEnv) -> None:
    c = env.client
    assert sorted(await names(c, min_rating=4.5)) == sorted(_names("lefevre", "dubois", "bernard"))
    assert sorted(await names(c, max_fee=2500)) == sorted(_names("durand", "bernard"))
    assert await names(c, language="es") == _names("bernard")
    assert await names(c, accepts_new_patients="false") == _names("bernard")
    assert NAMES["bernard"] not in await names(c, accepts_new_patients="true")


async def test_visit_type_and_availability_window_follow_the_rules(env: SearchEnv) -> None:
    c = env.client
    assert sorted(await names(c, visit_type="in-person")) == sorted(_names("lefevre", "dubois"))
    video = sorted(_names("martin", "dubois"))
    assert sorted(await names(c, visit_type="teleconsultation")) == video
    assert sorted(await names(c, available_within_days=5)) == sorted(_names("lefevre", "martin"))
    in_five = await names(c, visit_type="teleconsultation", available_within_days=5)
    assert in_five == _names("martin")
    assert await names(c, available_within_days=20, visit_type="in-person", q="cardio") == _names(
        "lefevre", "dubois"
    )


async def test_results_carry_what_a_result_card_shows(env: SearchEnv) -> None:
    [card] = (await search(env.client, q="Dubois", lat=PARIS[0], lon=PARIS[1]))["items"]
    assert card["name"] == "Marc Dubois" and card["city"] == "Versailles"
    assert card["fee"] == 6000 and card["currency"] == "EUR"
    assert card["rating"] == 4.5 and card["total_reviews"] == 75
    assert [s["code"] for s in card["specializations"]] == ["cardiology", "sports-medicine"]
    assert card["specializations"][0]["name"] == "Cardiology"
    assert card["visit_types"] == ["in-person", "teleconsultation"]
    assert 17 < card["distance_km"] < 19
    next_slot = datetime.fromisoformat(card["next_available"])
    assert next_slot.utcoffset() is not None
    assert next_slot > clock.now() + timedelta(days=9)
    assert "photo" in card
    french = (await search(env.client, q="Dubois", lang="fr"))["items"][0]
    assert french["specializations"][0]["name"] == "Cardiologie"
    assert french["distance_km"] is None


async def test_sorts_by_rating_fee_distance_and_next_available(env: SearchEnv) -> None:
    c = env.client
    by_rating = await names(c, sort="rating", size=3)
    assert by_rating == _names("bernard", "lefevre", "dubois")
    by_fee = await names(c, sort="fee")
    assert by_fee[:2] == sorted(_names("durand", "bernard"), key=lambda n: n != NAMES["bernard"])
    assert by_fee[-1] == NAMES["dubois"]
    by_distance = await names(c, sort="distance", lat=PARIS[0], lon=PARIS[1], radius=50)
    assert by_distance == _names("lefevre", "martin", "durand", "dubois")
    soonest = await names(c, sort="next_available", size=3)
    assert soonest == _names("lefevre", "martin", "dubois")
    video_first = await names(c, sort="next_available", visit_type="teleconsultation")
    assert video_first == _names("martin", "dubois")


async def test_facets_count_specialties_and_cities_of_the_whole_result(env: SearchEnv) -> None:
    body = await search(env.client, size=1)
    specialties = {f["value"]: f["count"] for f in body["facets"]["specialties"]}
    assert specialties == {
        "cardiology": 2,
        "general-practice": 2,
        "dermatology": 1,
        "pediatrics": 1,
        "sports-medicine": 1,
    }
    cities = body["facets"]["cities"]
    assert cities[0] == {"value": "Paris", "label": "Paris", "count": 3}
    assert {f["value"] for f in cities} == {"Paris", "Versailles", "Lyon", "Toulouse"}
    labels = {f["value"]: f["label"] for f in body["facets"]["specialties"]}
    assert labels["general-practice"] == "General practice"
    narrowed = await search(env.client, city="Paris")
    assert {f["value"] for f in narrowed["facets"]["cities"]} == {"Paris"}


async def test_pages_split_the_results_without_overlap(env: SearchEnv) -> None:
    pages = [await search(env.client, sort="rating", size=4, page=p) for p in (1, 2, 3)]
    assert [len(p["items"]) for p in pages] == [4, 2, 0]
    assert {p["total"] for p in pages} == {6}
    ids = [i["id"] for p in pages for i in p["items"]]
    assert len(set(ids)) == 6
    assert pages[1]["page"] == 2 and pages[1]["size"] == 4


async def test_beyond_the_result_window_the_total_is_a_lower_bound(
    env: SearchEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    everyone = await search(env.client, size=5)
    assert everyone["total"] == len(dataset.DOCTORS) and everyone["total_exact"]
    monkeypatch.setattr(postgres, "RESULT_WINDOW", 3)
    monkeypatch.setattr(es_queries, "RESULT_WINDOW", 3)
    # Parameters no other test sends: the answer cache must not hold them.
    nearest = await search(env.client, sort="distance", lat=PARIS[0], lon=PARIS[1], size=2)
    assert nearest["total"] == 3 and not nearest["total_exact"]
    assert [i["name"] for i in nearest["items"]] == _names("lefevre", "martin")
    # Facets count at least the window (PostgreSQL: exactly it; Elasticsearch: every match).
    assert sum(f["count"] for f in nearest["facets"]["cities"]) >= 3
    # Orders an index yields are exact whatever the window: it holds their best.
    best = await names(env.client, sort="rating", size=3, lang="fr")
    assert best == _names("bernard", "lefevre", "dubois")
    cheapest = await names(env.client, sort="fee", size=2, lang="fr")
    assert cheapest == sorted(_names("durand", "bernard"), key=lambda n: n != NAMES["bernard"])
    soonest = await names(env.client, sort="next_available", size=3, lang="fr")
    assert soonest == _names("lefevre", "martin", "dubois")
    exact = await search(env.client, q="cardio", size=3, lang="fr")
    assert exact["total"] == 2 and exact["total_exact"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lat": 48.8, "lon": 2.3, "radius": 0}, "radius"),
        ({"lat": 48.8, "lon": 2.3, "radius": 500}, "radius"),
        ({"lat": 91, "lon": 2.3}, "lat"),
        ({"lat": "nan", "lon": 2.3}, "lat"),
        ({"lat": 48.8}, "lon"),
        ({"lon": 2.3}, "lat"),
        ({"radius": 5}, "radius"),
        ({"sort": "distance"}, "sort"),
        ({"sort": "popularity"}, "sort"),
        ({"page": 51, "size": 20}, "page"),
        ({"page": 0}, "page"),
        ({"size": 51}, "size"),
        ({"specialty": "astrology"}, "specialty"),
        ({"visit_type": "home-visit"}, "visit_type"),
        ({"min_rating": 6}, "min_rating"),
        ({"language": "French"}, "language"),
        ({"postcode": "75%"}, "postcode"),
        ({"location": "Paris", "city": "Lyon"}, "location"),
        ({"colour": "blue"}, "colour"),
    ],
)
async def test_bad_input_is_a_422_problem_naming_the_field(
    env: SearchEnv, params: dict[str, Any], field: str
) -> None:
    response = await env.client.get(SEARCH, params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "/problems/invalid-input"
    assert field in [e["field"].removeprefix("query.") for e in body["errors"]]


async def test_blank_form_fields_filter_nothing(env: SearchEnv) -> None:
    blank = {"q": "", "specialty": "", "lat": "", "lon": " ", "radius": "", "sort": ""}
    assert (await search(env.client, **blank))["total"] == len(dataset.DOCTORS)


async def test_concurrent_searches_agree(env: SearchEnv) -> None:
    queries = [{"q": "cardio"}, {"city": "Paris"}, {"sort": "rating"}] * 10
    results = await asyncio.gather(*(names(env.client, **q) for q in queries))
    assert all(r == results[i % 3] for i, r in enumerate(results))
