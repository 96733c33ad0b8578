"""The Elasticsearch adapter's requests (mapping, queries, bulk bodies, alias swaps) and how it
reads answers, against a local stand-in of the ES HTTP API; then the app wired to it."""

from __future__ import annotations

import asyncio
import unicodedata
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from elasticsearch import AsyncElasticsearch

from bus.events import DOCTOR_CREATED
from bus.outbox import emit
from server import clock
from server.app import create_app
from server.settings import Settings
from storage.search import index
from storage.search.base import DoctorQuery, NearbyQuery
from storage.search.elasticsearch import BulkFailed, ElasticsearchSearch
from storage.search.es_documents import document
from storage.search.folding import fold
from tests.conftest import EngineUrls, delete_stream, make_settings
from tests.factories import make_doctor
from tests.storage.search.es_standin import EsStandIn, empty_search, es_standin

ALIAS = "t-doctors"
PARIS = (48.8566, 2.3522)


@pytest.fixture
async def standin() -> AsyncIterator[EsStandIn]:
    async with es_standin() as running:
        yield running


@pytest.fixture
async def backend(standin: EsStandIn) -> AsyncIterator[ElasticsearchSearch]:
    es = ElasticsearchSearch(AsyncElasticsearch(standin.url), ALIAS)
    yield es
    await es.close()


def _row(**overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "doctor_id": uuid.uuid4(),
        "first_name": "Claire",
        "last_name": "Lefèvre",
        "specializations": ["cardiology"],
        "specialization_names": "Cardiology Cardiologie",
        "bio": "",
        "city": "Paris",
        "postcode": "75011",
        "country": "FR",
        "latitude": 48.8589,
        "longitude": 2.3795,
        "consultation_fee": 5000,
        "currency": "EUR",
        "rating": 4.8,
        "total_reviews": 120,
        "languages": ["fr", "en"],
        "accepts_new_patients": True,
        "profile_image_url": None,
        "offers_in_person": True,
        "offers_teleconsultation": False,
        "next_in_person": datetime(2030, 1, 7, 9, 0, tzinfo=UTC),
        "next_teleconsultation": None,
        "next_available": datetime(2030, 1, 7, 9, 0, tzinfo=UTC),
        "time_zone": "Europe/Paris",
    }
    row = {**row, **overrides}
    folded = {
        "first_key": "first_name",
        "last_key": "last_name",
        "city_key": "city",
        "specialty_key": "specialization_names",
        "bio_key": "bio",
    }
    keys = {
        key: fold(row.pop(source) if key in ("specialty_key", "bio_key") else row[source])
        for key, source in folded.items()
    }
    return {**row, **keys}  # as storage/search/index.py reads an index row


async def test_first_start_creates_the_index_with_its_mapping_behind_an_alias(
    standin: EsStandIn, backend: ElasticsearchSearch
) -> None:
    await backend.ensure_index()
    await backend.ensure_index()  # the alias now exists: nothing more to create

    [create] = standin.calls("PUT")
    assert create.path.startswith(f"/{ALIAS}-")
    assert create.body["aliases"] == {ALIAS: {}}
    fields = create.body["mappings"]["properties"]
    assert fields["location"] == {"type": "geo_point"}
    assert fields["specialization"] == {"type": "keyword"}
    assert fields["name"]["analyzer"] == "folded"
    assert fields["text_sayt"]["type"] == "search_as_you_type"
    assert fields["name_suggest"]["type"] == fields["city_suggest"]["type"] == "completion"
    assert fields["city_key"]["type"] == "keyword"  # filtered with the query's folded city
    assert fields["time_zone"] == {"type": "keyword", "index": False}
    analyzer = create.body["settings"]["analysis"]["analyzer"]["folded"]
    assert "asciifolding" in analyzer["filter"]


async def test_search_sends_text_filters_sort_page_and_facets(
    standin: EsStandIn, backend: ElasticsearchSearch
) -> None:
    before = datetime(2030, 1, 10, tzinfo=UTC)
    query = DoctorQuery(
        text="cardio",
        specialty="cardiology",
        city="paris",
        postcode="75",
        lat=PARIS[0],
        lon=PARIS[1],
        radius_km=5,
        min_rating=4,
        max_fee=6000,
        visit_type="teleconsultation",
        language="fr",
        accepts_new_patients=True,
        available_before=before,
        sort="next_available",
        offset=20,
        limit=10,
    )
    await backend.search(query)

    [call] = standin.calls("POST", "/_search")
    assert call.path == f"/{ALIAS}/_search"
    body = call.body
    should = body["query"]["bool"]["must"][0]["bool"]["should"]
    assert should[0]["multi_match"]["fuzziness"] == "AUTO"
    assert should[0]["multi_match"]["fields"][0] == "name^4"
    assert should[1]["multi_match"]["type"] == "bool_prefix"
    assert body["query"]["bool"]["filter"] == [
        {"term": {"specialization": "cardiology"}},
        {"term": {"city_key": "paris"}},
        {"prefix": {"postcode": "75"}},
        {"geo_distance": {"distance": "5km", "location": {"lat": PARIS[0], "lon": PARIS[1]}}},
        {"range": {"rating": {"gte": 4}}},
        {"range": {"consultation_fee": {"lte": 6000}}},
        {"term": {"visit_types": "teleconsultation"}},
        {"term": {"languages": "fr"}},
        {"term": {"accepts_new_patients": True}},
        {"range": {"next_teleconsultation": {"lte": before.isoformat()}}},
    ]
    assert body["sort"][0] == {"next_teleconsultation": {"order": "asc", "missing": "_last"}}
    # Counted as far as PostgreSQL counts (the result window), "gte" beyond.
    assert (body["from"], body["size"], body["track_total_hits"]) == (20, 10, 1000)
    assert body["aggs"]["specialties"]["terms"]["field"] == "specialization"
    assert body["aggs"]["cities"]["terms"]["field"] == "city.raw"


async def test_search_answers_become_hits_with_distances_and_facets(
    standin: EsStandIn, backend: ElasticsearchSearch
) -> None:
    row = _row()
    answer = empty_search()
    answer["hits"] = {
        "total": {"value": 31, "relation": "eq"},
        "hits": [{"_id": str(row["doctor_id"]), "_source": document(row)}],
    }
    answer["aggregations"] = {
        "specialties": {"buckets": [{"key": "cardiology", "doc_count": 31}]},
        "cities": {"buckets": [{"key": "Paris", "doc_count": 30}, {"key": "Lyon", "doc_count": 1}]},
    }
    standin.search_responses.append(answer)

    found = await backend.search(DoctorQuery(lat=PARIS[0], lon=PARIS[1], sort="distance"))

    assert found.total == 31 and found.total_exact
    [hit] = found.hits
    assert hit.doctor_id == row["doctor_id"] and hit.last_name == "Lefèvre"
    assert hit.time_zone == "Europe/Paris"
    assert hit.next_available == row["next_available"] and hit.visit_types == ["in-person"]
    assert hit.distance_km is not None and 1.9 < hit.distance_km < 2.1
    assert [(f.value, f.count) for f in found.cities] == [("Paris", 30), ("Lyon", 1)]
    sort = standin.calls("POST", "/_search")[0].body["sort"][0]
    assert sort["_geo_distance"]["location"] == {"lat": PARIS[0], "lon": PARIS[1]}


async def test_a_total_counted_to_the_window_is_a_lower_bound(
    standin: EsStandIn, backend: ElasticsearchSearch
) -> None:
    answer = empty_search()
    answer["hits"] = {"total": {"value": 1000, "relation": "gte"}, "hits": []}
    standin.search_responses.append(answer)

    found = await backend.search(DoctorQuery())

    assert found.total == 1000 and not found.total_exact


async def test_documents_hold_text_folded_as_queries_are(
    standin: EsStandIn, backend: ElasticsearchSearch
) -> None:
    """NFD, case, accents and hyphens: a document's searched text is the one Python folding."""
    row = _row(
        first_name=unicodedata.normalize("NFD", "Hélène"),
        last_name="Henry",
        city="Saint-Étienne",
    )
    doc = document(row)
    assert doc["name"] == fold("He\u0301le\u0300ne Henry") == "helene henry"
    assert doc["city_key"] == fold("saint etienne") == "saint etienne"
    assert doc["city_suggest"] == {"input": ["saint etienne"]}
    assert doc["first_name"] == row["first_name"]  # shown as written

    await backend.search(DoctorQuery(text=fold("HÉLÈNE"), city=fold("SAINT-ÉTIENNE")))
    body = standin.calls("POST", "/_search")[0].body
    assert body["query"]["bool"]["must"][0]["bool"]["should"][0]["multi_match"]["query"] == "helene"
    assert {"term": {"city_key": "saint etienne"}} in body["query"]["bool"]["filter"]
    await backend.suggest(fold("He\u0301le\u0300"), 5)
    suggest = standin.calls("POST", "/_search")[1].body["suggest"]
    assert suggest["doctors"]["prefix"] == "hele"


async def test_nearby_sorts_by_distance_and_reads_it_from_the_sort_value(
    standin: EsStandIn, backend: ElasticsearchSearch
) -> None:
    row = _row()
    answer = empty_search()
    answer["hits"]["hits"] = [{"_source": document(row), "sort": [2.04, str(row["doctor_id"])]}]
    standin.search_responses.append(answer)

    [hit] = await backend.nearby(NearbyQuery(PARIS[0], PARIS[1], 10, limit=5))

    assert hit.distance_km == 2.04
    body = standin.calls("POST", "/_search")[0].body
    assert body["query"]["bool"]["filter"][0]["geo_distance"]["distance"] == "10km"
    assert body["sort"][0]["_geo_distance"]["order"] == "asc" and body["size"] == 5


async def test_suggestions_ask_both_completion_fields_fuzzily(
    standin: EsStandIn, backend: ElasticsearchSearch
) -> None:
    row = _row()
    answer = empty_search()
    answer["suggest"] = {
        "doctors": [
            {"text": "lef", "options": [{"text": "Lefèvre Claire", "_source": document(row)}]}
        ],
        "cities": [{"text": "lef", "options": []}],
    }
    standin.search_responses.append(answer)

    [doctor] = await backend.suggest("lef", 5)

    assert (doctor.type, doctor.label, doctor.value) == (
        "doctor",
        "Claire Lefèvre",
        str(row["doctor_id"]),
    )
    body = standin.calls("POST", "/_search")[0].body
    for name, field in (("doctors", "name_suggest"), ("cities", "city_suggest")):
        completion = body["suggest"][name]["completion"]
        assert body["suggest"][name]["prefix"] == "lef"
        assert completion["field"] == field and completion["fuzzy"] == {"fuzziness": "AUTO"}
        assert completion["skip_duplicates"] is True


async def _indexed(db: asyncpg.Connection, settings: Settings, **fields: Any) -> uuid.UUID:
    doctor = await make_doctor(db, settings, **fields)
    assert await index.upsert_profiles(db, [doctor.id], clock.now()) == [doctor.id]
    return doctor.id


async def test_sync_bulk_indexes_present_doctors_and_deletes_missing_ones(
    standin: EsStandIn, backend: ElasticsearchSearch, db: asyncpg.Connection, settings: Settings
) -> None:
    present = await _indexed(db, settings, first_name="Ana", last_name="Costa", city="Nice")
    missing = uuid.uuid4()

    await backend.sync(db, [present, missing])

    [bulk] = standin.calls("PUT", "/_bulk") + standin.calls("POST", "/_bulk")
    assert bulk.path == f"/{ALIAS}/_bulk" and bulk.query["refresh"] == "wait_for"
    action, doc, delete = bulk.body
    assert action == {"index": {"_id": str(present)}}
    assert (doc["name"], doc["city"], doc["id"]) == ("ana costa", "Nice", str(present))
    assert (doc["first_name"], doc["last_name"]) == ("Ana", "Costa")
    assert doc["name_suggest"] == {"input": ["ana costa", "costa ana"]}
    assert doc["city_suggest"] == {"input": ["nice"]}
    assert (doc["city_key"], doc["time_zone"]) == ("nice", "Europe/Paris")
    assert doc["location"] == {"lat": 48.8589, "lon": 2.3795}
    assert doc["availability"] is False and doc["consultation_fee"] == 3000
    assert delete == {"delete": {"_id": str(missing)}}


async def test_refused_documents_raise(
    standin: EsStandIn, backend: ElasticsearchSearch, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor_id = await _indexed(db, settings)
    standin.bulk_error = {"type": "mapper_parsing_exception", "reason": "bad"}
    with pytest.raises(BulkFailed, match="mapper_parsing_exception"):
        await backend.sync(db, [doctor_id])


async def test_rebuild_fills_a_new_index_then_swaps_the_alias(
    standin: EsStandIn, backend: ElasticsearchSearch, db: asyncpg.Connection, settings: Settings
) -> None:
    await backend.ensure_index()
    [old] = standin.aliases[ALIAS]
    for n in range(3):
        await _indexed(db, settings, last_name=f"Doc{n}")
    assert settings.database_url is not None
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
    steps: list[tuple[int, int]] = []
    try:
        await backend.rebuild(pool, lambda done, total: steps.append((done, total)), clock.now())
    finally:
        await pool.close()

    [new] = standin.aliases[ALIAS]
    assert new != old and old not in standin.indices
    [bulk] = [c for c in standin.requests if c.path == f"/{new}/_bulk"]
    assert len(bulk.body) == 6 and bulk.query["refresh"] == "false"  # refreshed once, at the end
    assert [c.path for c in standin.calls("POST", "/_refresh")] == [f"/{new}/_refresh"]
    [swap] = standin.calls("POST", "/_aliases")
    assert swap.body["actions"] == [
        {"remove": {"index": old, "alias": ALIAS}},
        {"add": {"index": new, "alias": ALIAS}},
    ]
    assert steps[0] == (0, 3) and steps[-1] == (3, 3)


@pytest.fixture
async def es_app_client(
    standin: EsStandIn, database_url: str, engine_urls: EngineUrls, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, Settings]]:
    settings = make_settings(
        database_url, engine_urls.nats_url, tmp_path, elasticsearch_url=standin.url
    )
    app = create_app(settings)
    try:
        async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                yield c, settings
    finally:
        await delete_stream(engine_urls.nats_url, settings.nats_stream)


async def test_the_app_searches_and_indexes_through_elasticsearch_when_configured(
    standin: EsStandIn,
    es_app_client: tuple[httpx.AsyncClient, Settings],
    db: asyncpg.Connection,
) -> None:
    client, settings = es_app_client
    alias = f"{settings.nats_subject_prefix}-doctors"
    assert alias in standin.aliases  # created at startup
    row = _row()
    answer = empty_search()
    answer["hits"] = {"total": {"value": 1, "relation": "eq"}, "hits": [{"_source": document(row)}]}
    standin.search_responses.append(answer)

    response = await client.get("/api/v1/search/doctors", params={"q": "Lefevre"})

    assert response.status_code == 200, response.text
    [item] = response.json()["items"]
    assert item["name"] == "Claire Lefèvre" and item["specializations"][0]["name"] == "Cardiology"
    assert standin.calls("POST", "/_search")[0].path == f"/{alias}/_search"

    doctor = await make_doctor(db, settings, first_name="Zoé", last_name="Marchand")
    async with db.transaction():
        await emit(
            db, DOCTOR_CREATED, f"doctor:{doctor.id}", {"doctor_id": str(doctor.id)}, at=clock.now()
        )
    deadline = datetime.now(UTC) + timedelta(seconds=15)
    while not _bulk_names(standin) and datetime.now(UTC) < deadline:
        await asyncio.sleep(0.1)
    assert _bulk_names(standin) == ["Zoé Marchand"]  # shown as written


def _bulk_names(standin: EsStandIn) -> list[str]:
    return [
        f"{line['first_name']} {line['last_name']}"
        for call in standin.requests
        if call.path.endswith("/_bulk")
        for line in call.body
        if "first_name" in line
    ]
