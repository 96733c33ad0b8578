"""SQL and query text for doctor search on PostgreSQL (storage/search/postgres.py runs them).

Optional filters are `($n IS NULL OR ...)` in one fixed statement; READ_SETTINGS forces custom
plans so PostgreSQL folds the absent ones away and picks the index for the ones present.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# The search pool's session settings (server/search/backend.py opens it; sent once per
# connection, so a search is its own statements alone: no BEGIN, SET or COMMIT round trips).
# Read only by default: a single statement is its own snapshot.
# Word similarity 0.5 (pg_trgm's default is 0.6) so one wrong letter in a 7-letter name still
# corrects ("lefebre" -> "lefevre" scores 0.62, "lfevre" 0.57); lower lets unrelated words in.
# random_page_cost 1.1 (SSD / cached index): with the default 4 the planner reads all 100,000
# documents rather than a GIN bitmap of 11,000 (95 ms instead of 17 ms, measured).
READ_SETTINGS = {
    "default_transaction_read_only": "on",
    "pg_trgm.word_similarity_threshold": "0.5",
    "random_page_cost": "1.1",
    "plan_cache_mode": "force_custom_plan",
}
# A long query is not a better query, only a slower one.
MAX_QUERY_WORDS = 8
# Shorter words have too few trigrams to tell a typo from another word ("mart" is as near to
# "marie" as to "martin"): they match as prefixes only.
MIN_FUZZY_LENGTH = 5
MAX_CORRECTIONS = 5
# earthdistance's earth() radius, in metres: ll_to_earth() points lie on this sphere.
EARTH_RADIUS_M = 6378168.0

# The query's words (folded in Python, as the index's are), each with the vocabulary words it
# nearly is.
WORDS_SQL = """
SELECT q.word,
       coalesce(array_agg(n.word ORDER BY n.rank) FILTER (WHERE n.word IS NOT NULL), '{}')
           AS near
FROM unnest($1::text[]) WITH ORDINALITY AS q(word, position)
LEFT JOIN LATERAL (
    SELECT w.word, q.word <<-> w.word AS rank
    FROM search.words w
    WHERE length(q.word) >= $2::int AND w.word %> q.word AND w.word <> q.word
    ORDER BY rank, w.word
    LIMIT $3::int
) n ON true
GROUP BY q.word
ORDER BY min(q.position)
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


def text_query(words: Sequence[Mapping[str, Any]]) -> TextQuery | None:
    exact, tolerant = [], []
    for row in words[:MAX_QUERY_WORDS]:
        typed = f"{_lexeme(row['word'])}:*"
        exact.append(typed)
        tolerant.append("(" + " | ".join([typed, *map(_lexeme, row["near"])]) + ")")
    if not exact:
        return None
    return TextQuery(" & ".join(exact), " & ".join(tolerant))


def window_ties(sort: str, has_text: bool) -> bool:
    """Whether the window is read in the page's order down to its tie-breaks: the orders whose
    btree has them (best rated, also the order of relevance without text, and lowest fee)."""
    return sort in ("rating", "fee") or (sort == "relevance" and not has_text)


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
           -- Weights D bio, C city, B specialty, A name; as typed outranks corrected (three
           -- times: one rank and one match test cost less than two ranks per matched doctor).
           -- Ranked only when the order asks for it.
           CASE WHEN $1::tsquery IS NULL OR $15::text <> 'relevance' THEN 0
                ELSE ts_rank('{0.05, 0.2, 0.4, 1.0}', i.document, $1::tsquery)
                     * CASE WHEN i.document @@ $2::tsquery THEN 1.5 ELSE 0.5 END
           END AS score
    FROM search.doctor_index i
    WHERE ($1::tsquery IS NULL OR i.document @@ $1::tsquery)
      AND ($3::text IS NULL OR i.specializations @> ARRAY[$3::text])
      AND ($4::text IS NULL OR i.city_key = $4::text)
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
      -- Implied by the line above (the earliest slot is no later than any): lets the text and
      -- the time bound meet in one GIN (migration 0031) instead of testing the text on every
      -- doctor free in time.
      AND ($1::tsquery IS NULL OR $14::timestamptz IS NULL OR i.next_available <= $14::timestamptz)
    -- At most the result window, and one more to tell whether the total is exact, in the
    -- page's order where an index yields it (constant CASEs fold away, leaving the sort's keys):
    -- the GiST's nearest first, the next-slot btrees, the fee and rating btrees (with their
    -- tie-breaks, $21; nearest and soonest without, or the planner sorts every match instead).
    -- So the window holds the best of every order but text relevance, whose rank needs every
    -- match.
    ORDER BY CASE WHEN $15::text = 'distance' THEN i.location <-> (SELECT center FROM point) END,
             CASE WHEN $15::text = 'next_available'
                  THEN CASE $11::text WHEN 'in-person' THEN i.next_in_person
                                      WHEN 'teleconsultation' THEN i.next_teleconsultation
                                      ELSE i.next_available END END,
             CASE WHEN $15::text = 'fee' THEN i.consultation_fee END,
             CASE WHEN $21::bool THEN i.rating END DESC,
             CASE WHEN $21::bool THEN i.total_reviews END DESC,
             CASE WHEN $21::bool THEN i.doctor_id END
    LIMIT $20::int + 1
),
-- Page, total and facets read the window itself (a materialised CTE is read in its order).
considered AS (SELECT * FROM matched LIMIT $20::int),
page AS (
    SELECT m.doctor_id, m.chord,
           CASE $15::text WHEN 'relevance' THEN -m.score
                          WHEN 'distance' THEN m.chord
                          WHEN 'rating' THEN -m.rating::float8
                          WHEN 'fee' THEN m.consultation_fee::float8
                          WHEN 'next_available' THEN extract(epoch FROM m.next_slot)::float8
           END AS sort_key, m.rating, m.total_reviews
    FROM considered m
    ORDER BY sort_key ASC NULLS LAST, m.rating DESC, m.total_reviews DESC, m.doctor_id
    LIMIT $16::int OFFSET $17::int
),
-- Doctors per city spelling: the total and the city facet from one pass over the window.
spellings AS (
    SELECT m.city_key, m.city, count(*) AS n FROM considered m GROUP BY m.city_key, m.city
),
totals AS (
    SELECT (SELECT coalesce(sum(c.n), 0)::bigint FROM spellings c) AS total,
           (SELECT count(*) FROM matched) <= $20::int AS total_exact,
           (SELECT coalesce(jsonb_agg(jsonb_build_object('value', f.value, 'count', f.n)
                                      ORDER BY f.n DESC, f.value), '[]'::jsonb)
            -- unnest() in the select list (ProjectSet), not as a lateral Function Scan: one
            -- function scan set up per doctor costs a microsecond each (15 ms for 15,000).
            FROM (SELECT x.s AS value, count(*) AS n
                  FROM (SELECT unnest(m.specializations) AS s FROM considered m) x
                  GROUP BY x.s ORDER BY n DESC, x.s LIMIT $18::int) f) AS specialty_facets,
           -- Spellings counted by hashing first, so min() compares (in the collation) a few
           -- spellings per city rather than every doctor's.
           (SELECT coalesce(jsonb_agg(jsonb_build_object('value', f.value, 'count', f.n)
                                      ORDER BY f.n DESC, f.value), '[]'::jsonb)
            FROM (SELECT min(c.city) AS value, sum(c.n)::bigint AS n
                  FROM spellings c WHERE c.city <> ''
                  GROUP BY c.city_key ORDER BY n DESC, value LIMIT $18::int) f) AS city_facets
)
-- Facets as text: on every row, but decoded once (in Python), from the first.
SELECT t.total, t.total_exact, t.specialty_facets::text AS specialty_facets,
       t.city_facets::text AS city_facets, p.chord, i.doctor_id, i.first_name, i.last_name,
       i.specializations, i.city, i.postcode, i.consultation_fee, i.currency, i.rating,
       i.total_reviews, i.languages, i.accepts_new_patients, i.profile_image_url,
       i.offers_in_person, i.offers_teleconsultation, i.next_in_person,
       i.next_teleconsultation, i.next_available, i.time_zone
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
       i.time_zone, cube_distance(i.location, (SELECT center FROM point)) AS chord
FROM search.doctor_index i
WHERE earth_box((SELECT center FROM point), $3::float8) @> i.location
  AND cube_distance(i.location, (SELECT center FROM point)) <= $6::float8
  AND ($5::text IS NULL OR i.specializations @> ARRAY[$5::text])
-- Nearest first straight from the GiST index (KNN), so only `limit` rows are read.
ORDER BY i.location <-> (SELECT center FROM point), i.doctor_id
LIMIT $4::int
"""

# Suggestions in one statement (one round trip instead of three: under load each round trip
# costs more than the three plans together), as rows tagged with their kind (1 doctor, 2 city)
# and rank: the words' typo corrections (as WORDS_SQL finds them), then
# - doctors whose first or last name starts with the word being typed (or with a correction of
#   it), whose name also starts with each earlier word; most reviewed first. Every branch is an
#   index-only range scan (keys compared in byte order, so p <= key < p || U+10FFFF is "starts
#   with p"), which keeps a two-letter prefix cheap at 100,000 doctors;
# - distinct cities starting with the typed text, by a skip-scan of the city_key btree (one
#   probe per city, however many doctors each has), then cities a typo correction names exactly.
# $1 the folded words, $2 MIN_FUZZY_LENGTH, $3 MAX_CORRECTIONS, $4 the word being typed,
# $5 the words before it, $6 the limit (per kind), $7 the whole folded text.
SUGGEST_SQL = """
WITH RECURSIVE corrections AS (
    SELECT coalesce(array_agg(n.word), '{}') AS near
    FROM unnest($1::text[]) AS q(word)
    CROSS JOIN LATERAL (
        SELECT w.word FROM search.words w
        WHERE length(q.word) >= $2::int AND w.word %> q.word AND w.word <> q.word
        ORDER BY q.word <<-> w.word, w.word
        LIMIT $3::int
    ) n
),
prefixes AS (
    SELECT DISTINCT p, $5::text[] AS others
    FROM corrections c, unnest($4::text || c.near) p
),
candidates AS (
    SELECT c.doctor_id, c.total_reviews
    FROM prefixes x, LATERAL (
        (SELECT i.doctor_id, i.total_reviews FROM search.doctor_index i
         WHERE i.last_key >= x.p AND i.last_key < x.p || chr(1114111)
           AND NOT EXISTS (SELECT 1 FROM unnest(x.others) o
                           WHERE NOT (starts_with(i.first_key, o) OR starts_with(i.last_key, o)))
         ORDER BY i.total_reviews DESC LIMIT $6::int)
        UNION ALL
        (SELECT i.doctor_id, i.total_reviews FROM search.doctor_index i
         WHERE i.first_key >= x.p AND i.first_key < x.p || chr(1114111)
           AND NOT EXISTS (SELECT 1 FROM unnest(x.others) o
                           WHERE NOT (starts_with(i.first_key, o) OR starts_with(i.last_key, o)))
         ORDER BY i.total_reviews DESC LIMIT $6::int)
    ) c
),
doctors AS (
    SELECT i.doctor_id, i.first_name, i.last_name, c.total_reviews
    FROM (SELECT DISTINCT doctor_id, total_reviews FROM candidates) c
    JOIN search.doctor_index i ON i.doctor_id = c.doctor_id
    ORDER BY c.total_reviews DESC, c.doctor_id
    LIMIT $6::int
),
cities AS (
    (SELECT i.city_key FROM search.doctor_index i
     WHERE i.city_key >= $7::text
       AND i.city_key < $7::text || chr(1114111)
     ORDER BY i.city_key LIMIT 1)
    UNION ALL
    SELECT (SELECT i.city_key FROM search.doctor_index i
            WHERE i.city_key > c.city_key
              AND i.city_key < $7::text || chr(1114111)
            ORDER BY i.city_key LIMIT 1)
    FROM cities c WHERE c.city_key IS NOT NULL
),
found AS (
    (SELECT c.city_key, 1 AS tier FROM cities c WHERE c.city_key IS NOT NULL LIMIT $6::int)
    UNION ALL
    SELECT w.word, 2 FROM corrections c, unnest(c.near) AS w(word)
    WHERE EXISTS (SELECT 1 FROM search.doctor_index i WHERE i.city_key = w.word)
),
city_rows AS (
    SELECT f.tier, f.city_key,
           (SELECT i.city FROM search.doctor_index i WHERE i.city_key = f.city_key LIMIT 1) AS city
    FROM (SELECT city_key, min(tier) AS tier FROM found GROUP BY city_key) f
    ORDER BY f.tier, f.city_key
    LIMIT $6::int
)
SELECT 1 AS part, row_number() OVER (ORDER BY d.total_reviews DESC, d.doctor_id) AS rank,
       d.doctor_id, d.first_name, d.last_name, NULL::text AS city
FROM doctors d
UNION ALL
SELECT 2, row_number() OVER (ORDER BY c.tier, c.city_key), NULL, NULL, NULL, c.city
FROM city_rows c
ORDER BY part, rank
"""
