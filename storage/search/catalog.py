"""The specialization catalogue (doctors.specializations, read-only here), for every backend:
it is small and lives in PostgreSQL whichever engine holds the doctors."""

from __future__ import annotations

import asyncpg


async def specializations(con: asyncpg.Connection | asyncpg.Pool) -> list[asyncpg.Record]:
    return list(
        await con.fetch("SELECT code, name_en, name_fr FROM doctors.specializations ORDER BY code")
    )


async def suggest_specializations(
    con: asyncpg.Connection | asyncpg.Pool, text: str, limit: int
) -> list[asyncpg.Record]:
    """Specialties whose code or en/fr name contains the text, or nearly does ("dermatologue")."""
    return list(
        await con.fetch(
            """WITH q AS (SELECT search.fold($1::text) AS text),
                    s AS (SELECT code, name_en, name_fr,
                                 search.fold(code || ' ' || name_en || ' ' || name_fr) AS names
                          FROM doctors.specializations)
               SELECT s.code, s.name_en, s.name_fr
               FROM s, q
               WHERE strpos(s.names, q.text) > 0
                  OR (length(q.text) >= 3 AND word_similarity(q.text, s.names) >= 0.5)
               ORDER BY strpos(s.names, q.text) > 0 DESC, word_similarity(q.text, s.names) DESC,
                        s.name_en
               LIMIT $2::int""",
            text,
            limit,
        )
    )
