"""The Elasticsearch index of doctors: settings, mapping (the product spec's, plus what
typo-tolerant and as-you-type search need) and the documents made from index rows.

Searched text is indexed already folded (the index rows' `*_key` columns, made by
storage/search/folding.py) and queries arrive folded the same way, so NFD input, ligatures and
punctuation compare as in PostgreSQL; the analyzers only split words and keep case and accents
folded for text that reaches them unfolded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from storage.search.base import DoctorHit, VisitType, hit_from_row

INDEX_SETTINGS: dict[str, Any] = {
    "analysis": {
        # Accent- and case-insensitive everywhere: "Lefevre" finds "Lefèvre".
        "analyzer": {
            "folded": {
                "type": "custom",
                "tokenizer": "standard",
                "filter": ["lowercase", "asciifolding"],
            }
        },
        "normalizer": {"folded": {"type": "custom", "filter": ["lowercase", "asciifolding"]}},
    }
}

_FOLDED_TEXT = {"type": "text", "analyzer": "folded"}
_DATE = {"type": "date"}
_STORED_ONLY = {"type": "keyword", "index": False}

MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        # The product spec's fields.
        "id": {"type": "keyword"},
        "name": _FOLDED_TEXT,
        "specialization": {"type": "keyword"},
        "location": {"type": "geo_point"},
        "rating": {"type": "float"},
        "consultation_fee": {"type": "float"},  # minor units
        "availability": {"type": "boolean"},  # has a free slot in the booking horizon
        "bio": _FOLDED_TEXT,
        # Matching: as-you-type over name + specialties + city, completion for suggestions.
        "text_sayt": {"type": "search_as_you_type", "analyzer": "folded"},
        "name_suggest": {"type": "completion", "analyzer": "folded"},
        "city_suggest": {"type": "completion", "analyzer": "folded"},
        "specialization_names": _FOLDED_TEXT,
        "city": {**_FOLDED_TEXT, "fields": {"raw": {"type": "keyword"}}},  # as written
        "city_key": {"type": "keyword", "fields": {"words": _FOLDED_TEXT}},  # folded
        # Filters and sorts.
        "postcode": {"type": "keyword"},
        "country": {"type": "keyword"},
        "total_reviews": {"type": "integer"},
        "currency": {"type": "keyword"},
        "languages": {"type": "keyword"},
        "accepts_new_patients": {"type": "boolean"},
        "visit_types": {"type": "keyword"},
        "next_available": _DATE,
        "next_in_person": _DATE,
        "next_teleconsultation": _DATE,
        # Shown, never searched.
        "first_name": _STORED_ONLY,
        "last_name": _STORED_ONLY,
        "photo": _STORED_ONLY,
        "time_zone": _STORED_ONLY,
    },
}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def document(row: Mapping[str, Any]) -> dict[str, Any]:
    """The document for one `search.doctor_index` row."""
    name = f"{row['first_key']} {row['last_key']}"
    offered: list[VisitType] = []
    if row["offers_in_person"]:
        offered.append("in-person")
    if row["offers_teleconsultation"]:
        offered.append("teleconsultation")
    doc: dict[str, Any] = {
        "id": str(row["doctor_id"]),
        "name": name,
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "text_sayt": f"{name} {row['specialty_key']} {row['city_key']}",
        # Both orders, so a prefix of the last name completes too.
        "name_suggest": {"input": [name, f"{row['last_key']} {row['first_key']}"]},
        "specialization": list(row["specializations"]),
        "specialization_names": row["specialty_key"],
        "bio": row["bio_key"],
        "city": row["city"],
        "city_key": row["city_key"],
        "postcode": row["postcode"],
        "country": row["country"],
        "rating": float(row["rating"]),
        "total_reviews": row["total_reviews"],
        "consultation_fee": row["consultation_fee"],
        "currency": row["currency"],
        "availability": row["next_available"] is not None,
        "languages": list(row["languages"]),
        "accepts_new_patients": row["accepts_new_patients"],
        "visit_types": offered,
        "next_available": _iso(row["next_available"]),
        "next_in_person": _iso(row["next_in_person"]),
        "next_teleconsultation": _iso(row["next_teleconsultation"]),
        "photo": row["profile_image_url"],
        "time_zone": row["time_zone"],
    }
    if row["city_key"]:  # a completion input may not be empty
        doc["city_suggest"] = {"input": [row["city_key"]]}
    if row["latitude"] is not None and row["longitude"] is not None:
        doc["location"] = {"lat": row["latitude"], "lon": row["longitude"]}
    return doc


def _date(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def hit(
    source: Mapping[str, Any], visit_type: VisitType | None, distance_km: float | None
) -> DoctorHit:
    offered = source.get("visit_types") or []
    row = {
        "doctor_id": source["id"],
        "first_name": source["first_name"],
        "last_name": source["last_name"],
        "specializations": source.get("specialization") or [],
        "city": source.get("city") or "",
        "postcode": source.get("postcode") or "",
        "consultation_fee": source["consultation_fee"],
        "currency": source["currency"],
        "rating": source["rating"],
        "total_reviews": source["total_reviews"],
        "languages": source.get("languages") or [],
        "accepts_new_patients": source["accepts_new_patients"],
        "profile_image_url": source.get("photo"),
        "offers_in_person": "in-person" in offered,
        "offers_teleconsultation": "teleconsultation" in offered,
        "next_available": _date(source.get("next_available")),
        "next_in_person": _date(source.get("next_in_person")),
        "next_teleconsultation": _date(source.get("next_teleconsultation")),
        "time_zone": source["time_zone"],
    }
    return hit_from_row(row, visit_type, distance_km)


# Elasticsearch's own mean Earth radius (GeoUtils.EARTH_MEAN_RADIUS), so shown distances agree
# with its geo_distance filter.
EARTH_RADIUS_KM = 6371.0088


def distance_km(source: Mapping[str, Any], lat: float, lon: float) -> float | None:
    location = source.get("location")
    if not location:
        return None
    p1, p2 = math.radians(lat), math.radians(location["lat"])
    dp, dl = p2 - p1, math.radians(location["lon"] - lon)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))
