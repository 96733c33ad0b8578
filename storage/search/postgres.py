"""Doctor search on PostgreSQL: weighted full text (unaccented), pg_trgm for typos and prefixes,
earthdistance (cube + GiST) for geography, all over `search.doctor_index`.

Optional filters are `($n IS NULL OR ...)`; plans are forced custom so PostgreSQL folds the
absent ones away and still picks the right index for the ones present.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import asyncpg

from storage.search.base import (
    FACET_SIZE,
    DoctorHit,
    DoctorQuery,
    FacetCount,
    NearbyQuery,
    Progress,
    SearchResult,
    Suggestion,
    hit_from_row,
)

# Word-similarity threshold 0.5, below pg_trgm's 0.6, so one wrong letter in a 7-letter name
# still matches ("Lefebre" ~ "Lefèvre" scores 0.62, "lfevre" 0.57); lower lets unrelated words in.
READ_SETTINGS = """SET LOCAL pg_trgm.word_similarity_threshold = 0.5;
                    SET LOCAL plan_cache_mode = force_custom_plan"""
_WORD = re.compile(r"[^\W_]+")
# A long query is not a better query, only a slower one.
MAX_QUERY_WORDS = 8


def prefix_tsquery(text: str) -> str | None:
    """'Claire Lefè' -> 'Claire:* & Lefè:*' (folded in SQL); None when there is no word."""
    words = _WORD.findall(text)[:MAX_QUERY_WORDS]
    return " & ".join(f"{w}:*" for w in words) or None


SEARCH_SQL = """
WITH matched AS MATERIALIZED (
    SELECT i.doctor_id, i.first_name, i.last_name, i.specializations, i.city, i.city_key,
           i.postcode, i.consultation_fee, i.currency, i.rating, i.total_reviews, i.languages,
           i.accepts_new_patients, i.profile_image_url, i.offers_in_person,
           i.offers_teleconsultation, i.next_in_person, i.next_teleconsultation, i.next_available,
           CASE $11::text WHEN 'in-person' THEN i.next_in_person
                          WHEN 'teleconsultation' THEN i.next_teleconsultation
                          ELSE i.next_available END AS next_slot,
           earth_distance(i.location, ll_to_earth($6::float8, $7::float8)) / 1000 AS distance_km,
           CASE WHEN $2::text IS NULL THEN 0
                ELSE ts_rank('{0.05, 0.2, 0.4, 1.0}', i.document,
                             to_tsquery('simple', search.fold($1::text)))
                     + word_similarity(search.fold($2::text), i.match_text) END AS score
    FROM search.doctor_index i
    WHERE ($2::text IS NULL
           OR i.document @@ to_tsquery('simple', search.fold($1::text))
           OR i.match_text %> search.fold($2::text))
      AND ($3::text IS NULL OR i.specializations @> ARRAY[$3::text])
      AND ($4::text IS NULL OR i.city_key = search.fold($4::text))
      AND ($5::text IS NULL OR i.postcode LIKE $5::text || '%')
      AND ($8::float8 IS NULL
           OR (earth_box(ll_to_earth($6::float8, $7::float8), $8::float8) @> i.location
               AND earth_distance(ll_to_earth($6::float8, $7::float8), i.location)
                   <= $8::float8))
      AND ($9::float8 IS NULL OR i.rating >= $9::float8)
      AND ($10::int IS NULL OR i.consultation_fee <= $10::int)
      AND ($11::text IS NULL
           OR ($11::text = 'in-person' AND i.offers_in_person)
           OR ($11::text = 'teleconsultation' AND i.offers_teleconsultation))
      AND ($12::text IS NULL OR i.languages @> ARRAY[$12::text])
      AND ($13::bool IS NULL OR i.accepts_new_patients = $13::bool)
      AND ($14::timestamptz IS NULL
           OR CASE $11::text WHEN 'in-person' THEN i.next_in_person
                             WHEN 'teleconsultation' THEN i.next_teleconsultation
                             ELSE i.next_available END <= $14::timestamptz)
),
page AS (
    SELECT m.*,
           CASE $15::text WHEN 'relevance' THEN -m.score
                          WHEN 'distance' THEN m.distance_km
                          WHEN 'rating' THEN -m.rating::float8
                          WHEN 'fee' THEN m.consultation_fee::float8
                          WHEN 'next_available' THEN extract(epoch FROM m.next_slot)::float8
           END AS sort_key
    FROM matched m
    ORDER BY sort_key ASC NULLS LAST, m.rating DESC, m.total_reviews DESC, m.doctor_id
    LIMIT $16::int OFFSET $17::int
),
totals AS (
    SELECT (SELECT count(*) FROM matched) AS total,
           (SELECT coalesce(jsonb_agg(jsonb_build_object('value', f.value, 'count', f.n)
                                      ORDER BY f.n DESC, f.value), '[]'::jsonb)
            FROM (SELECT s AS value, count(*) AS n FROM matched m, unnest(m.specializations) s
                  GROUP BY s ORDER BY n DESC, s LIMIT $18::int) f) AS specialty_facets,
           (SELECT coalesce(jsonb_agg(jsonb_build_object('value', f.value, 'count', f.n)
                                      ORDER BY f.n DESC, f.value), '[]'::jsonb)
            FROM (SELECT min(m.city) AS value, count(*) AS n FROM matched m WHERE m.city <> ''
                  GROUP BY m.city_key ORDER BY n DESC, value LIMIT $18::int) f) AS city_facets
)
SELECT t.total, t.specialty_facets, t.city_facets, p.*
FROM totals t LEFT JOIN page p ON true
ORDER BY p.sort_key ASC NULLS LAST, p.rating DESC, p.total_reviews DESC, p.doctor_id
"""

NEARBY_SQL = """
SELECT i.doctor_id, i.first_name, i.last_name, i.specializations, i.city, i.postcode,
       i.consultation_fee, i.currency, i.rating, i.total_reviews, i.languages,
       i.accepts_new_patients, i.profile_image_url, i.offers_in_person,
       i.offers_teleconsultation, i.next_in_person, i.next_teleconsultation, i.next_available,
       earth_distance(ll_to_earth($1::float8, $2::float8), i.location) / 1000 AS distance_km
FROM search.doctor_index i
WHERE earth_box(ll_to_earth($1::float8, $2::float8), $3::float8) @> i.location
  AND earth_distance(ll_to_earth($1::float8, $2::float8), i.location) <= $3::float8
  AND ($5::text IS NULL OR i.specializations @> ARRAY[$5::text])
ORDER BY i.location <-> ll_to_earth($1::float8, $2::float8), i.doctor_id
LIMIT $4::int
"""

# `$1` is already reduced to words and spaces (no LIKE wildcard can reach these patterns).
DOCTOR_SUGGEST_SQL = """
WITH q AS (SELECT search.fold($1::text) AS text)
SELECT i.doctor_id, i.first_name, i.last_name
FROM search.doctor_index i, q
WHERE i.name_key LIKE q.text || '%' OR i.name_key LIKE '% ' || q.text || '%'
   OR (length(q.text) >= 3 AND i.name_key %> q.text)
ORDER BY (i.name_key LIKE q.text || '%' OR i.name_key LIKE '% ' || q.text || '%') DESC,
         word_similarity(q.text, i.name_key) DESC, i.total_reviews DESC, i.doctor_id
LIMIT $2::int
"""

CITY_SUGGEST_SQL = """
WITH q AS (SELECT search.fold($1::text) AS text)
SELECT min(i.city) AS city, count(*) AS doctors
FROM search.doctor_index i, q
WHERE i.city <> ''
  AND (i.city_key LIKE q.text || '%' OR (length(q.text) >= 3 AND i.city_key %> q.text))
GROUP BY i.city_key, q.text
ORDER BY i.city_key LIKE q.text || '%' DESC, word_similarity(q.text, i.city_key) DESC,
         count(*) DESC, min(i.city)
LIMIT $2::int
"""


class PostgresSearch:
    """The embedded default: queries the index table itself, so `sync` has nothing to do."""

    name = "postgres"

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[asyncpg.Connection]:
        async with self._pool.acquire() as con, con.transaction(readonly=True):
            await con.execute(READ_SETTINGS)
            yield con

    async def search(self, query: DoctorQuery) -> SearchResult:
        tsquery = prefix_tsquery(query.text) if query.text else None
        async with self._reading() as con:
            rows = await con.fetch(
                SEARCH_SQL,
                tsquery,
                query.text if tsquery else None,
                query.specialty,
                query.city,
                query.postcode,
                query.lat,
                query.lon,
                None if query.radius_km is None else query.radius_km * 1000,
                query.min_rating,
                query.max_fee,
                query.visit_type,
                query.language,
                query.accepts_new_patients,
                query.available_before,
                query.sort,
                query.limit,
                query.offset,
                FACET_SIZE,
            )
        first = rows[0]
        hits = [
            hit_from_row(r, query.visit_type, r["distance_km"])
            for r in rows
            if r["doctor_id"] is not None
        ]
        return SearchResult(
            hits=hits,
            total=int(first["total"]),
            specialties=[FacetCount(f["value"], f["count"]) for f in first["specialty_facets"]],
            cities=[FacetCount(f["value"], f["count"]) for f in first["city_facets"]],
        )

    async def nearby(self, query: NearbyQuery) -> list[DoctorHit]:
        async with self._reading() as con:
            rows = await con.fetch(
                NEARBY_SQL,
                query.lat,
                query.lon,
                query.radius_km * 1000,
                query.limit,
                query.specialty,
            )
        return [hit_from_row(r, None, r["distance_km"]) for r in rows]

    async def suggest(self, text: str, limit: int) -> list[Suggestion]:
        async with self._reading() as con:
            doctors = await con.fetch(DOCTOR_SUGGEST_SQL, text, limit)
            cities = await con.fetch(CITY_SUGGEST_SQL, text, limit)
        return [
            Suggestion("doctor", f"{r['first_name']} {r['last_name']}", str(r["doctor_id"]))
            for r in doctors
        ] + [Suggestion("city", r["city"], r["city"]) for r in cities]

    async def sync(self, con: asyncpg.Connection, doctor_ids: Sequence[uuid.UUID]) -> None:
        return None

    async def rebuild(self, pool: asyncpg.Pool, progress: Progress) -> None:
        # The table is the index: only refresh the planner's statistics after a bulk change.
        await pool.execute("ANALYZE search.doctor_index")

    async def close(self) -> None:
        return None
