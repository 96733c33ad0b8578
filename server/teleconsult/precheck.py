"""Pre-call checks: each party's waiting-room check is kept on its session for the other
party (above all the doctor, before admitting) to read. docs/realtime.md, "Pre-call check"."""

from __future__ import annotations

import uuid

from server import clock
from server.audit.service import record_change
from server.auth.principal import Principal
from server.engines import Engines
from server.teleconsult.access import call_role
from server.teleconsult.errors import (
    ADMINS_NEVER_JOIN,
    NotAParty,
)
from server.teleconsult.schemas import PrecheckIn, PrecheckList, PrecheckOut
from server.teleconsult.service import open_session_role, session_and_parties
from storage import teleconsult as store


async def save(
    engines: Engines, principal: Principal, session_id: uuid.UUID, check: PrecheckIn
) -> PrecheckOut:
    """Keep the caller's latest check. 404 to non-parties, 403 to admins, 409 once ended."""
    _, _, role = await open_session_role(engines.pool, principal, session_id, ADMINS_NEVER_JOIN)
    values = {**check.model_dump(), "checked_at": clock.now()}
    async with engines.pool.acquire() as con, con.transaction():
        saved = await store.save_precheck(con, session_id, principal.user_id, role, values)
        await record_change(con)
    return PrecheckOut.model_validate(dict(saved))


async def read(engines: Engines, principal: Principal, session_id: uuid.UUID) -> PrecheckList:
    """Both parties' latest checks, to the parties and admins (404 to anyone else)."""
    _, parties = await session_and_parties(engines.pool, session_id)
    if not principal.is_admin and call_role(parties, principal.user_id) is None:
        raise NotAParty()
    rows = await store.prechecks_of(engines.pool, session_id)
    return PrecheckList(checks=[PrecheckOut.model_validate(dict(r)) for r in rows])
