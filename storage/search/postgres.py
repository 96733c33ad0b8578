"""Doctor search on PostgreSQL: weighted full text (unaccented) over `search.doctor_index`,
typos corrected first against the small `search.words` vocabulary with pg_trgm, geography with
earthdistance (cube + GiST).

Optional filters are `($n IS NULL OR ...)`; plans are forced custom so PostgreSQL folds the
absent ones away and still picks the right index for the ones present.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

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

# Word similarity 0.5 (pg_trgm's default is 0.6) so one wrong letter in a 7-letter name still
# corrects ("lefebre" -> "lefevre" scores 0.62, "lfevre" 0.57); lower lets unrelated words in.
# random_page_cost 1.1 (SSD / cached index): with the default 4 the planner reads all 100,000
# documents rather than a GIN bitmap of 11,000 (95 ms instead of 17 ms, measured).
READ_SETTINGS = """SET LOCAL pg_trgm.word_similarity_threshold = 0.5;
                    SET LOCAL random_page_cost = 1.1;
                    SET LOCAL plan_cache_mode = force_custom_plan"""
# A long query is not a better query, only a slower one.
MAX_QUERY_WORDS = 8
# Shorter words have too few trigrams to tell a typo from another word ("mart" is as near to
# "marie" as to "martin"): they match as prefixes only.
MIN_FUZZY_LENGTH = 5
MAX_CORRECTIONS = 5
# earthdistance's earth() radius, in metres: ll_to_earth() points lie on this sphere.
EARTH_RADIUS_M = 6378168.0

# The query's words as the index sees them (folded, split like the documents), each with the
# vocabulary words it nearly is.
WORDS_SQL = """
SELECT q.lexeme AS word,
       coalesce(array_agg(n.word ORDER BY n.rank) FILTER (WHERE n.word IS NOT NULL), '{}')
           AS near
FROM unnest(to_tsvector('simple', search.fold($1::text))) q
LEFT JOIN LATERAL (
    SELECT w.word, q.lexeme <<-> w.word AS rank
    FROM search.words w
    WHERE length(q.lexeme) >= $2::int AND w.word %> q.lexeme AND w.word <> q.lexeme
    ORDER BY rank, w.word
    LIMIT $3::int
) n ON true
GROUP BY q.lexeme
"""


def chord_m(arc_m: float) -> float:
    """The straight-line length under a great-circle arc, on earthdistance's sphere."""
    return 2 * EARTH_RADIUS_M * math.sin(min(arc_m / (2 * EARTH_RADIUS_M), math.pi / 2))


def arc_km(chord: float | None) -> float | None:
    if chord is None:
        return None
    return 2 * EARTH_RADIUS_M * math.asin(min(chord / (2 * EARTH_RADIUS_M), 1.0)) / 1000


def _lexeme(word: str) -> str:
    """A tsquery operand for a word already normalised by PostgreSQL."""
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


@dataclass(frozen=True)
class TextQuery:
    exact: str  # every typed word as a prefix: 'claire':* & 'lefev':*
    tolerant: str  # each word, or one of its corrections: ('lefebre':* | 'lefevre') & ...


def text_query(words: list[asyncpg.Record]) -> TextQuery | None:
    exact, tolerant = [], []
    for row in words[:MAX_QUERY_WORDS]:
        typed = f"{_lexeme(row['word'])}:*"
        exact.append(typed)
        tolerant.append("(" + " | ".join([typed, *map(_lexeme, row["near"])]) + ")")
    if not exact:
        return None
    return TextQuery(" & ".join(exact), " & ".join(tolerant))


SEARCH_SQL = """
WITH point AS (
    -- Once per query: ll_to_earth() per row (with the earth domain's checks) costs 10x more.
    SELECT ll_to_earth($6::float8, $7::float8) AS center
),
-- Distances are compared as chords (cube_distance, in C): the great-circle earth_distance() is
-- a chain of SQL functions costing microseconds per row. $19 is the radius as a chord.
matched AS MATERIALIZED (
    SELECT i.doctor_id, i.specializations, i.city, i.city_key, i.consultation_fee, i.rating,
           i.total_reviews,
           CASE $11::text WHEN 'in-person' THEN i.next_in_person
                          WHEN 'teleconsultation' THEN i.next_teleconsultation
                          ELSE i.next_available END AS next_slot,
           cube_distance(i.location, (SELECT center FROM point)) AS chord,
           -- As typed outranks corrected; weights D bio, C city, B specialty, A name.
           CASE WHEN $1::tsquery IS NULL THEN 0
                ELSE ts_rank('{0.05, 0.2, 0.4, 1.0}', i.document, $2::tsquery)
                     + 0.5 * ts_rank('{0.05, 0.2, 0.4, 1.0}', i.document, $1::tsquery)
           END AS score
    FROM search.doctor_index i
    WHERE ($1::tsquery IS NULL OR i.document @@ $1::tsquery)
      AND ($3::text IS NULL OR i.specializations @> ARRAY[$3::text])
      AND ($4::text IS NULL OR i.city_key = search.fold($4::text))
      AND ($5::text IS NULL OR i.postcode LIKE $5::text || '%')
      AND ($8::float8 IS NULL
           OR (earth_box((SELECT center FROM point), $8::float8) @> i.location
               AND cube_distance(i.location, (SELECT center FROM point)) <= $19::float8))
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
    SELECT m.doctor_id, m.chord,
           CASE $15::text WHEN 'relevance' THEN -m.score
                          WHEN 'distance' THEN m.chord
                          WHEN 'rating' THEN -m.rating::float8
                          WHEN 'fee' THEN m.consultation_fee::float8
                          WHEN 'next_available' THEN extract(epoch FROM m.next_slot)::float8
           END AS sort_key, m.rating, m.total_reviews
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
SELECT t.total, t.specialty_facets, t.city_facets, p.chord, i.doctor_id, i.first_name,
       i.last_name, i.specializations, i.city, i.postcode, i.consultation_fee, i.currency,
       i.rating, i.total_reviews, i.languages, i.accepts_new_patients, i.profile_image_url,
       i.offers_in_person, i.offers_teleconsultation, i.next_in_person,
       i.next_teleconsultation, i.next_available
FROM totals t
LEFT JOIN page p ON true
LEFT JOIN search.doctor_index i ON i.doctor_id = p.doctor_id
ORDER BY p.sort_key ASC NULLS LAST, p.rating DESC, p.total_reviews DESC, p.doctor_id
"""

NEARBY_SQL = """
WITH point AS (SELECT ll_to_earth($1::float8, $2::float8) AS center)
SELECT i.doctor_id, i.first_name, i.last_name, i.specializations, i.city, i.postcode,
       i.consultation_fee, i.currency, i.rating, i.total_reviews, i.languages,
       i.accepts_new_patients, i.profile_image_url, i.offers_in_person,
       i.offers_teleconsultation, i.next_in_person, i.next_teleconsultation, i.next_available,
       cube_distance(i.location, (SELECT center FROM point)) AS chord
FROM search.doctor_index i
WHERE earth_box((SELECT center FROM point), $3::float8) @> i.location
  AND cube_distance(i.location, (SELECT center FROM point)) <= $6::float8
  AND ($5::text IS NULL OR i.specializations @> ARRAY[$5::text])
-- Nearest first straight from the GiST index (KNN), so only `limit` rows are read.
ORDER BY i.location <-> (SELECT center FROM point), i.doctor_id
LIMIT $4::int
"""

# Doctors whose first or last name starts with the word being typed (or with a correction of
# it), whose name also starts with each earlier word; most reviewed first. Every branch is an
# index-only range scan (keys compared in byte order, so p <= key < p || U+10FFFF is "starts
# with p"), which keeps a two-letter prefix cheap at 100,000 doctors.
DOCTOR_SUGGEST_SQL = """
WITH typed AS (
    SELECT ARRAY(SELECT DISTINCT search.fold(p) FROM unnest($1::text[]) p) AS prefixes,
           ARRAY(SELECT search.fold(o) FROM unnest($2::text[]) o) AS others
),
prefixes AS (SELECT unnest(typed.prefixes) AS p, typed.others FROM typed),
candidates AS (
    SELECT c.doctor_id, c.total_reviews
    FROM prefixes x, LATERAL (
        (SELECT i.doctor_id, i.total_reviews FROM search.doctor_index i
         WHERE i.last_key >= x.p AND i.last_key < x.p || chr(1114111)
           AND NOT EXISTS (SELECT 1 FROM unnest(x.others) o
                           WHERE NOT (starts_with(i.first_key, o) OR starts_with(i.last_key, o)))
         ORDER BY i.total_reviews DESC LIMIT $3::int)
        UNION ALL
        (SELECT i.doctor_id, i.total_reviews FROM search.doctor_index i
         WHERE i.first_key >= x.p AND i.first_key < x.p || chr(1114111)
           AND NOT EXISTS (SELECT 1 FROM unnest(x.others) o
                           WHERE NOT (starts_with(i.first_key, o) OR starts_with(i.last_key, o)))
         ORDER BY i.total_reviews DESC LIMIT $3::int)
    ) c
)
SELECT i.doctor_id, i.first_name, i.last_name
FROM (SELECT DISTINCT doctor_id, total_reviews FROM candidates) c
JOIN search.doctor_index i ON i.doctor_id = c.doctor_id
ORDER BY c.total_reviews DESC, c.doctor_id
LIMIT $3::int
"""

# Distinct cities starting with the typed text, by a skip-scan of the city_key btree (one
# probe per city, however many doctors each has), then cities a typo correction names exactly.
CITY_SUGGEST_SQL = """
WITH RECURSIVE cities AS (
    (SELECT i.city_key FROM search.doctor_index i
     WHERE i.city_key >= search.fold($1::text)
       AND i.city_key < search.fold($1::text) || chr(1114111)
     ORDER BY i.city_key LIMIT 1)
    UNION ALL
    SELECT (SELECT i.city_key FROM search.doctor_index i
            WHERE i.city_key > c.city_key
              AND i.city_key < search.fold($1::text) || chr(1114111)
            ORDER BY i.city_key LIMIT 1)
    FROM cities c WHERE c.city_key IS NOT NULL
),
found AS (
    (SELECT c.city_key, 1 AS tier FROM cities c WHERE c.city_key IS NOT NULL LIMIT $3::int)
    UNION ALL
    SELECT w.word, 2 FROM unnest($2::text[]) AS w(word)
    WHERE EXISTS (SELECT 1 FROM search.doctor_index i WHERE i.city_key = w.word)
)
SELECT (SELECT i.city FROM search.doctor_index i WHERE i.city_key = f.city_key LIMIT 1) AS city
FROM (SELECT city_key, min(tier) AS tier FROM found GROUP BY city_key) f
ORDER BY f.tier, f.city_key
LIMIT $3::int
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

    async def _words(self, con: asyncpg.Connection, text: str) -> list[asyncpg.Record]:
        return list(await con.fetch(WORDS_SQL, text, MIN_FUZZY_LENGTH, MAX_CORRECTIONS))

    async def search(self, query: DoctorQuery) -> SearchResult:
        async with self._reading() as con:
            text = text_query(await self._words(con, query.text)) if query.text else None
            rows = await con.fetch(
                SEARCH_SQL,
                text.tolerant if text else None,
                text.exact if text else None,
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
                None if query.radius_km is None else chord_m(query.radius_km * 1000),
            )
        first = rows[0]
        hits = [
            hit_from_row(r, query.visit_type, arc_km(r["chord"]))
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
                chord_m(query.radius_km * 1000),
            )
        return [hit_from_row(r, None, arc_km(r["chord"])) for r in rows]

    async def suggest(self, text: str, limit: int) -> list[Suggestion]:
        async with self._reading() as con:
            words = await self._words(con, text)
            corrections = [w for row in words for w in row["near"]]
            *others, typing = text.split()[:MAX_QUERY_WORDS]
            doctors = await con.fetch(DOCTOR_SUGGEST_SQL, [typing, *corrections], others, limit)
            cities = await con.fetch(CITY_SUGGEST_SQL, text, corrections, limit)
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
