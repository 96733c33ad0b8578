"""Doctor search on PostgreSQL: weighted full text (unaccented) over `search.doctor_index`,
typos corrected first against the small `search.words` vocabulary with pg_trgm, geography with
earthdistance (cube + GiST). The statements are in storage/search/pg_queries.py.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from storage.search.base import (
    FACET_SIZE,
    RESULT_WINDOW,
    DoctorHit,
    DoctorQuery,
    FacetCount,
    NearbyQuery,
    Progress,
    SearchResult,
    Suggestion,
    hit_from_row,
)
from storage.search.pg_queries import (
    MAX_CORRECTIONS,
    MAX_QUERY_WORDS,
    MIN_FUZZY_LENGTH,
    NEARBY_SQL,
    SEARCH_SQL,
    SUGGEST_SQL,
    WORDS_SQL,
    arc_km,
    chord_m,
    text_query,
    window_ties,
)


def _facets(text: str) -> list[FacetCount]:
    return [FacetCount(f["value"], f["count"]) for f in json.loads(text)]


class PostgresSearch:
    """The embedded default: queries the index table itself, so `sync` has nothing to do."""

    name = "postgres"

    def __init__(self, pool: asyncpg.Pool) -> None:
        # A pool whose connections carry READ_SETTINGS (server/search/backend.py): each search
        # is one statement (two with typo corrections), each its own read-only snapshot.
        self._pool = pool

    async def _words(self, con: asyncpg.Connection, text: str) -> list[Mapping[str, Any]]:
        words = text.split()[:MAX_QUERY_WORDS]
        if all(len(word) < MIN_FUZZY_LENGTH for word in words):
            # No word long enough to correct: WORDS_SQL's answer without its round trip (each
            # word once, in the order typed).
            return [{"word": word, "near": []} for word in dict.fromkeys(words)]
        return list(await con.fetch(WORDS_SQL, words, MIN_FUZZY_LENGTH, MAX_CORRECTIONS))

    async def search(self, query: DoctorQuery) -> SearchResult:
        async with self._pool.acquire() as con:
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
                RESULT_WINDOW,
                window_ties(query.sort, text is not None),
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
            total_exact=first["total_exact"],
            specialties=_facets(first["specialty_facets"]),
            cities=_facets(first["city_facets"]),
        )

    async def nearby(self, query: NearbyQuery) -> list[DoctorHit]:
        rows = await self._pool.fetch(
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
        words = text.split()[:MAX_QUERY_WORDS]
        *others, typing = words
        rows = await self._pool.fetch(
            SUGGEST_SQL, words, MIN_FUZZY_LENGTH, MAX_CORRECTIONS, typing, others, limit, text
        )
        return [
            Suggestion("doctor", f"{r['first_name']} {r['last_name']}", str(r["doctor_id"]))
            if r["part"] == 1
            else Suggestion("city", r["city"], r["city"])
            for r in rows
        ]

    async def sync(self, con: asyncpg.Connection, doctor_ids: Sequence[uuid.UUID]) -> None:
        return None

    async def rebuild(self, pool: asyncpg.Pool, progress: Progress, started: datetime) -> None:
        # The table is the index: only refresh the planner's statistics after a bulk change.
        await pool.execute("ANALYZE search.doctor_index")

    async def close(self) -> None:
        return None
