"""Making the audit store refuse rows (as a full disk would), for fail-closed tests."""

from __future__ import annotations

import asyncpg


async def refuse_audit_rows(db: asyncpg.Connection) -> None:
    """From now on the audit store refuses every row."""
    await db.execute(
        """CREATE OR REPLACE FUNCTION public.refuse_audit() RETURNS trigger
           LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit store unavailable (test)'; END $$;
           CREATE TRIGGER refuse_audit BEFORE INSERT ON audit.logs
               FOR EACH ROW EXECUTE FUNCTION public.refuse_audit()"""
    )


async def accept_audit_rows(db: asyncpg.Connection) -> None:
    await db.execute("DROP TRIGGER refuse_audit ON audit.logs")
