"""Geography (radius search, nearby, distances) and as-you-type suggestions, over the known set
of doctors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.server.search import dataset
from tests.server.search.dataset import NAMES, PARIS
from tests.server.search.helpers import NEARBY, SUGGEST, SearchEnv, search

pytestmark = pytest.mark.any_hour


@pytest.fixture(scope="module")
async def env(search_env: SearchEnv) -> AsyncIterator[SearchEnv]:
    await dataset.seed(search_env)
    yield search_env


async def _suggest(env: SearchEnv, q: str, **params: Any) -> list[dict[str, Any]]:
    response = await env.client.get(SUGGEST, params={"q": q, **params})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_radius_keeps_doctors_within_it_with_their_distance(env: SearchEnv) -> None:
    body = await search(env.client, lat=PARIS[0], lon=PARIS[1], radius=5)
    distances = {i["name"]: i["distance_km"] for i in body["items"]}
    assert set(distances) == {NAMES["lefevre"], NAMES["martin"], NAMES["durand"]}
    assert all(0 < d <= 5 for d in distances.values())
    assert 1.5 < distances[NAMES["lefevre"]] < 2.5
    wider = await search(env.client, lat=PARIS[0], lon=PARIS[1], radius=20)
    assert NAMES["dubois"] in [i["name"] for i in wider["items"]]
    assert wider["total"] == 4  # Lyon, and Toulouse without coordinates, stay out


async def test_nearby_lists_nearest_first_with_distances(env: SearchEnv) -> None:
    response = await env.client.get(NEARBY, params={"lat": PARIS[0], "lon": PARIS[1]})
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [i["name"] for i in items] == [NAMES[k] for k in ("lefevre", "martin", "durand")]
    distances = [i["distance_km"] for i in items]
    assert distances == sorted(distances)
    lyon = (45.764, 4.8357)
    far = await env.client.get(NEARBY, params={"lat": lyon[0], "lon": lyon[1], "radius": 200})
    assert [i["name"] for i in far.json()["items"]] == [NAMES["bernard"]]
    cardio = await env.client.get(
        NEARBY, params={"lat": PARIS[0], "lon": PARIS[1], "radius": 30, "specialty": "cardiology"}
    )
    assert [i["name"] for i in cardio.json()["items"]] == [NAMES["lefevre"], NAMES["dubois"]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lon": 2.3}, "lat"),
        ({"lat": 48.8, "lon": 181}, "lon"),
        ({"lat": 48.8, "lon": 2.3, "radius": -1}, "radius"),
        ({"lat": 48.8, "lon": 2.3, "radius": 201}, "radius"),
        ({"lat": 48.8, "lon": 2.3, "limit": 0}, "limit"),
        ({"lat": 48.8, "lon": 2.3, "specialty": "astrology"}, "specialty"),
    ],
)
async def test_nearby_refuses_bad_points_and_radii(
    env: SearchEnv, params: dict[str, Any], field: str
) -> None:
    response = await env.client.get(NEARBY, params=params)
    assert response.status_code == 422
    assert field in [e["field"].removeprefix("query.") for e in response.json()["errors"]]


async def test_suggestions_complete_a_doctor_name_accents_aside(env: SearchEnv) -> None:
    for prefix in ("lef", "Lefè", "claire l", "lefebvre"):
        doctors = [s for s in await _suggest(env, prefix) if s["type"] == "doctor"]
        assert doctors[0]["label"] == NAMES["lefevre"], prefix
        assert doctors[0]["id"] == doctors[0]["value"]
    assert not [s for s in await _suggest(env, "hélène") if s["type"] == "doctor"]


async def test_suggestions_offer_specialties_with_both_names(env: SearchEnv) -> None:
    [cardiology] = [s for s in await _suggest(env, "cardio") if s["type"] == "specialty"]
    assert cardiology["value"] == "cardiology"
    assert cardiology["labels"] == {"en": "Cardiology", "fr": "Cardiologie"}
    assert cardiology["label"] == "Cardiology"
    french = [s for s in await _suggest(env, "cardio", lang="fr") if s["type"] == "specialty"]
    assert french[0]["label"] == "Cardiologie"
    typo = [s["value"] for s in await _suggest(env, "dermatologue") if s["type"] == "specialty"]
    assert typo[0] == "dermatology"
    assert "pediatrics" in [s["value"] for s in await _suggest(env, "pédia")]


async def test_suggestions_offer_cities_once_each(env: SearchEnv) -> None:
    cities = [s for s in await _suggest(env, "pari") if s["type"] == "city"]
    assert cities == [
        {"type": "city", "label": "Paris", "value": "Paris", "id": None, "labels": None}
    ]
    assert [s["value"] for s in await _suggest(env, "versail") if s["type"] == "city"] == [
        "Versailles"
    ]


async def test_suggestions_refuse_empty_or_long_text_and_ignore_punctuation(
    env: SearchEnv,
) -> None:
    assert (await env.client.get(SUGGEST, params={"q": ""})).status_code == 422
    assert (await env.client.get(SUGGEST, params={"q": "x" * 101})).status_code == 422
    assert (await env.client.get(SUGGEST)).status_code == 422
    assert await _suggest(env, "%_'") == []
