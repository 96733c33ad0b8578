"""Making the audit store refuse rows (as a full disk would), for fail-closed tests."""

from __future__ import annotations

import asyncpg


async def refuse_audit_rows(db: asyncpg.Connection, actions: str = "%") -> None:
    """From now on the audit store refuses every row whose action is LIKE `actions`
    (e.g. "appointment.sms_%": the change's own entry fails, the middleware's would not)."""
    pattern = actions.replace("'", "''")  # a trigger's argument is a literal in its DDL
    await db.execute(
        f"""CREATE OR REPLACE FUNCTION public.refuse_audit() RETURNS trigger
            LANGUAGE plpgsql AS $$ BEGIN
                IF NEW.action LIKE TG_ARGV[0] THEN
                    RAISE EXCEPTION 'audit store unavailable (test)';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER refuse_audit BEFORE INSERT ON audit.logs
                FOR EACH ROW EXECUTE FUNCTION public.refuse_audit('{pattern}')"""
    )


async def accept_audit_rows(db: asyncpg.Connection) -> None:
    await db.execute("DROP TRIGGER refuse_audit ON audit.logs")
