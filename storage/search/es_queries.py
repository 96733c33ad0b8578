"""Elasticsearch request bodies for doctor search, nearby and suggestions (pure functions)."""

from __future__ import annotations

from typing import Any

from storage.search.base import (
    FACET_SIZE,
    RESULT_WINDOW,
    DoctorQuery,
    NearbyQuery,
    SortKey,
    VisitType,
)

# Field boosts mirror the PostgreSQL weights: a name match outranks a mention in a bio.
TEXT_FIELDS = ["name^4", "specialization_names^2", "city_key.words^1.5", "bio^0.5"]
SAYT_FIELDS = ["text_sayt", "text_sayt._2gram", "text_sayt._3gram"]
TIE_BREAK: list[dict[str, Any]] = [
    {"rating": "desc"},
    {"total_reviews": "desc"},
    {"id": "asc"},
]


def next_field(visit_type: VisitType | None) -> str:
    return {
        None: "next_available",
        "in-person": "next_in_person",
        "teleconsultation": "next_teleconsultation",
    }[visit_type]


def text_query(text: str) -> dict[str, Any]:
    """Whole words with typos (fuzziness AUTO) or the start of a word ("cardio")."""
    return {
        "bool": {
            "should": [
                {"multi_match": {"query": text, "fields": TEXT_FIELDS, "fuzziness": "AUTO"}},
                {"multi_match": {"query": text, "type": "bool_prefix", "fields": SAYT_FIELDS}},
            ],
            "minimum_should_match": 1,
        }
    }


def _geo(lat: float, lon: float, radius_km: float) -> dict[str, Any]:
    return {"geo_distance": {"distance": f"{radius_km}km", "location": {"lat": lat, "lon": lon}}}


def filters(q: DoctorQuery) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if q.specialty is not None:
        found.append({"term": {"specialization": q.specialty}})
    if q.city is not None:
        found.append({"term": {"city_key": q.city}})  # both folded
    if q.postcode is not None:
        found.append({"prefix": {"postcode": q.postcode}})
    if q.lat is not None and q.lon is not None and q.radius_km is not None:
        found.append(_geo(q.lat, q.lon, q.radius_km))
    if q.min_rating is not None:
        found.append({"range": {"rating": {"gte": q.min_rating}}})
    if q.max_fee is not None:
        found.append({"range": {"consultation_fee": {"lte": q.max_fee}}})
    if q.visit_type is not None:
        found.append({"term": {"visit_types": q.visit_type}})
    if q.language is not None:
        found.append({"term": {"languages": q.language}})
    if q.accepts_new_patients is not None:
        found.append({"term": {"accepts_new_patients": q.accepts_new_patients}})
    if q.available_before is not None:
        found.append({"range": {next_field(q.visit_type): {"lte": q.available_before.isoformat()}}})
    return found


def sort(q: DoctorQuery) -> list[Any]:
    first: dict[SortKey, list[Any]] = {
        "relevance": ["_score"],
        "rating": [],
        "fee": [{"consultation_fee": "asc"}],
        "next_available": [{next_field(q.visit_type): {"order": "asc", "missing": "_last"}}],
        "distance": [],
    }
    if q.sort == "distance" and q.lat is not None and q.lon is not None:
        first["distance"] = [
            {
                "_geo_distance": {
                    "location": {"lat": q.lat, "lon": q.lon},
                    "order": "asc",
                    "unit": "km",
                }
            }
        ]
    return [*first[q.sort], *TIE_BREAK]


def search_body(q: DoctorQuery) -> dict[str, Any]:
    must = [text_query(q.text)] if q.text else [{"match_all": {}}]
    return {
        "query": {"bool": {"must": must, "filter": filters(q)}},
        "sort": sort(q),
        "from": q.offset,
        "size": q.limit,
        # Counted as far as PostgreSQL counts: "gte" beyond (ranking and facets stay whole).
        "track_total_hits": RESULT_WINDOW,
        "aggs": {
            "specialties": {"terms": {"field": "specialization", "size": FACET_SIZE}},
            "cities": {"terms": {"field": "city.raw", "size": FACET_SIZE}},
        },
    }


def nearby_body(q: NearbyQuery) -> dict[str, Any]:
    found = [_geo(q.lat, q.lon, q.radius_km)]
    if q.specialty is not None:
        found.append({"term": {"specialization": q.specialty}})
    return {
        "query": {"bool": {"filter": found}},
        "sort": [
            {
                "_geo_distance": {
                    "location": {"lat": q.lat, "lon": q.lon},
                    "order": "asc",
                    "unit": "km",
                }
            },
            {"id": "asc"},
        ],
        "size": q.limit,
    }


def suggest_body(text: str, limit: int) -> dict[str, Any]:
    def completion(field: str) -> dict[str, Any]:
        return {
            "prefix": text,
            "completion": {
                "field": field,
                "size": limit,
                "skip_duplicates": True,
                "fuzzy": {"fuzziness": "AUTO"},
            },
        }

    return {
        "suggest": {"doctors": completion("name_suggest"), "cities": completion("city_suggest")},
        "_source": ["id", "first_name", "last_name", "city"],
        "size": 0,
    }
