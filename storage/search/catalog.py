"""The specialization catalogue (doctors.specializations, read-only here), for every backend:
it is small and lives in PostgreSQL whichever engine holds the doctors."""

from __future__ import annotations

import asyncpg


async def specializations(con: asyncpg.Connection | asyncpg.Pool) -> list[asyncpg.Record]:
    return list(
        await con.fetch("SELECT code, name_en, name_fr FROM doctors.specializations ORDER BY code")
    )


async def suggest_specializations(
    con: asyncpg.Connection | asyncpg.Pool,
    text: str,
    codes: list[str],
    names: list[str],
    limit: int,
) -> list[str]:
    """Codes of the specialties whose names contain the folded text, or nearly do
    ("dermatologue"); `names` are each code's names, folded, in the order ties keep."""
    rows = await con.fetch(
        """SELECT n.code
           FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS n(code, names, position)
           WHERE strpos(n.names, $1::text) > 0
              OR (length($1::text) >= 3 AND word_similarity($1::text, n.names) >= 0.5)
           ORDER BY strpos(n.names, $1::text) > 0 DESC, word_similarity($1::text, n.names) DESC,
                    n.position
           LIMIT $4::int""",
        text,
        codes,
        names,
        limit,
    )
    return [r["code"] for r in rows]
