"""Teleconsultation rules: open a session, read it, hand out join tokens, start and end it.

Design: docs/realtime.md ("Signaling (/consult)"). Sessions are created when a teleconsultation
appointment is confirmed (server/teleconsult/consumer.py), or on demand by its doctor (any time)
or its patient (inside the joining window, e.g. for an appointment still unconfirmed). A session
becomes active when the doctor admits the patient from the waiting room (signaling/calls.py).
Who may join and when is server/teleconsult/access.py; live sockets are reached through the
LiveCalls port (server/teleconsult/ports.py).
"""

from __future__ import annotations

import logging
import secrets
import uuid

import asyncpg
from starlette.requests import HTTPConnection

from server import clock
from server.audit.service import record_access, record_change
from server.auth.principal import Principal
from server.engines import Engines
from server.errors import NO_SUCH_APPOINTMENT, MarkiniError, NotFound, Reason
from server.scheduling.service import Parties, appointment_parties
from server.settings import Settings
from server.teleconsult.access import (
    CallRole,
    call_role,
    check_join,
    check_window,
    join_window,
    polite,
)
from server.teleconsult.errors import (
    ADMINS_NEVER_JOIN,
    APPOINTMENT_CLOSED,
    CONSULTATION_ENDED,
    IN_PERSON_VISIT,
    NO_SUCH_CONSULTATION,
    NotAParty,
    NotTeleconsultation,
    SessionClosed,
    WrongParty,
)
from server.teleconsult.events import emit_ended, emit_started
from server.teleconsult.ports import LiveCalls
from server.teleconsult.schemas import (
    JoinOut,
    JoinWindow,
    RecordingState,
    SessionEnd,
    SessionOut,
)
from server.teleconsult.tokens import issue_join_token
from server.teleconsult.turn import ice_servers
from storage import teleconsult as store

log = logging.getLogger(__name__)

RESOURCE = "teleconsultation_session"
# A held appointment is not paid yet; once paid it is confirmed (an unpaid booking is scheduled,
# confirmed by the doctor or not).
OPENABLE_APPOINTMENT = frozenset({"scheduled", "confirmed"})
# 192 random bits: a room id cannot be guessed, and says nothing about who meets.
ROOM_ID_BYTES = 24


def new_room_id() -> str:
    return secrets.token_urlsafe(ROOM_ID_BYTES)


def render(row: asyncpg.Record, parties: Parties, settings: Settings) -> SessionOut:
    opens, closes = join_window(parties, settings)
    return SessionOut(
        id=row["id"],
        appointment_id=row["appointment_id"],
        room_id=row["room_id"],
        status=row["status"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        duration_s=row["duration_s"],
        end_reason=row["end_reason"],
        recording_url=row["recording_url"],
        recording=RecordingState(
            patient_consent=row["patient_consent_at"] is not None,
            doctor_consent=row["doctor_consent_at"] is not None,
            url=row["recording_url"],
        ),
        join_opens_at=opens,
        join_closes_at=closes,
    )


async def ensure_session(
    con: asyncpg.Connection | asyncpg.Pool, appointment_id: uuid.UUID, doctor_id: uuid.UUID
) -> tuple[asyncpg.Record, bool]:
    """The appointment's one session (created now or before) and whether it was created."""
    row = await store.insert_session(con, appointment_id, doctor_id, new_room_id(), clock.now())
    if row is not None:
        return row, True
    existing = await store.session_by_appointment(con, appointment_id)
    assert existing is not None  # the conflict was on this appointment
    return existing, False


async def create_session(
    engines: Engines, principal: Principal, appointment_id: uuid.UUID
) -> tuple[SessionOut, bool]:
    parties = await appointment_parties(engines.pool, appointment_id)
    if parties is None:
        raise NotFound(NO_SUCH_APPOINTMENT)
    is_patient = principal.user_id in parties.acting_user_ids
    if not is_patient and principal.user_id != parties.doctor_user_id and not principal.is_admin:
        raise NotAParty(NO_SUCH_APPOINTMENT)
    if parties.visit_type != "teleconsultation":
        raise NotTeleconsultation(IN_PERSON_VISIT)
    if parties.status not in OPENABLE_APPOINTMENT:
        raise SessionClosed(APPOINTMENT_CLOSED, params={"status": parties.status})
    if is_patient:
        # Unconfirmed bookings have no session yet: the patient opens it on arrival, so the
        # waiting room (and the doctor's agenda) sees them at once; only inside the window.
        check_window(parties, engines.settings, clock.now())
    async with engines.pool.acquire() as con, con.transaction():
        row, created = await ensure_session(con, appointment_id, parties.doctor_id)
        if created:
            await record_change(con, resource_id=row["id"])
    return render(row, parties, engines.settings), created


async def session_and_parties(
    pool: asyncpg.Pool, session_id: uuid.UUID
) -> tuple[asyncpg.Record, Parties]:
    row = await store.session_by_id(pool, session_id)
    parties = await appointment_parties(pool, row["appointment_id"]) if row else None
    if row is None or parties is None:
        raise NotFound(NO_SUCH_CONSULTATION)
    return row, parties


async def open_session_role(
    pool: asyncpg.Pool, principal: Principal, session_id: uuid.UUID, admin_refusal: Reason
) -> tuple[asyncpg.Record, Parties, CallRole]:
    """The session, its parties and the caller's role, for a party acting on an open session:
    404 to anyone else, 403 (`admin_refusal`) to admins, 409 once it has ended."""
    row, parties = await session_and_parties(pool, session_id)
    role = call_role(parties, principal.user_id)
    if role is None:
        if principal.is_admin:
            raise WrongParty(admin_refusal)
        raise NotAParty()
    if row["status"] not in ("scheduled", "active"):
        raise SessionClosed(CONSULTATION_ENDED)
    return row, parties, role


async def visible_session(
    engines: Engines,
    principal: Principal,
    session_id: uuid.UUID,
    action: str,
    request: HTTPConnection | None,
) -> tuple[asyncpg.Record, Parties]:
    """The session if the caller is a party or an admin; refusals and reads are audited."""
    row, parties = await session_and_parties(engines.pool, session_id)
    allowed = principal.is_admin or call_role(parties, principal.user_id) is not None
    await record_access(
        engines.pool,
        principal=principal,
        action=action if allowed else f"{action}_refused",
        resource_type=RESOURCE,
        resource_id=session_id,
        status=200 if allowed else 404,
        request=request,
    )
    if not allowed:
        raise NotAParty()
    return row, parties


async def get_session(
    engines: Engines, principal: Principal, session_id: uuid.UUID, request: HTTPConnection
) -> SessionOut:
    row, parties = await visible_session(
        engines, principal, session_id, "consultation.read", request
    )
    return render(row, parties, engines.settings)


async def find_session(
    engines: Engines, principal: Principal, appointment_id: uuid.UUID, request: HTTPConnection
) -> SessionOut:
    row = await store.session_by_appointment(engines.pool, appointment_id)
    if row is None:
        raise NotFound(NO_SUCH_CONSULTATION)  # what a non-party reads too
    return await get_session(engines, principal, row["id"], request)


async def issue_join(
    engines: Engines,
    principal: Principal,
    session_id: uuid.UUID,
    request: HTTPConnection,
    action: str = "consultation.join",
) -> JoinOut:
    """A join token and ICE servers for a party within the window; every refusal is audited."""
    settings = engines.settings
    row, parties = await session_and_parties(engines.pool, session_id)
    try:
        if principal.is_admin and call_role(parties, principal.user_id) is None:
            raise WrongParty(ADMINS_NEVER_JOIN)
        role = check_join(parties, row["status"], principal.user_id, settings, clock.now())
    except MarkiniError as exc:
        await record_access(
            engines.pool,
            principal=principal,
            action="consultation.join_refused",
            resource_type=RESOURCE,
            resource_id=session_id,
            status=exc.status,
            request=request,
            payload={"reason": exc.title},
        )
        raise
    token, expires = issue_join_token(
        settings,
        user_id=principal.user_id,
        role=role,
        session_id=row["id"],
        appointment_id=row["appointment_id"],
        room_id=row["room_id"],
    )
    await record_access(
        engines.pool,
        principal=principal,
        action=action,
        resource_type=RESOURCE,
        resource_id=session_id,
        request=request,
    )
    opens, closes = join_window(parties, settings)
    return JoinOut(
        session_id=row["id"],
        appointment_id=row["appointment_id"],
        room_id=row["room_id"],
        role=role,
        polite=polite(role),
        token=token,
        expires_at=expires,
        ice_servers=ice_servers(settings, principal.user_id),
        window=JoinWindow(opens_at=opens, closes_at=closes),
    )


async def start_session(
    pool: asyncpg.Pool, session_id: uuid.UUID, patient_id: uuid.UUID, actor: uuid.UUID
) -> asyncpg.Record:
    """scheduled -> active with its event (once); the current row either way."""
    async with pool.acquire() as con, con.transaction():
        row = await store.mark_started(con, session_id, clock.now())
        if row is not None:
            await emit_started(con, row, patient_id, str(actor))
            return row
        current = await store.session_by_id(con, session_id)
    if current is None:
        raise NotFound(NO_SUCH_CONSULTATION)
    return current


async def end_session(
    engines: Engines,
    live: LiveCalls,
    principal: Principal,
    session_id: uuid.UUID,
    body: SessionEnd,
) -> SessionOut:
    """Either party (or an admin) ends the call; ending an ended session changes nothing."""
    row, parties = await session_and_parties(engines.pool, session_id)
    if call_role(parties, principal.user_id) is None and not principal.is_admin:
        raise NotAParty()
    if row["status"] not in ("scheduled", "active"):
        return render(row, parties, engines.settings)
    # A call that never started cannot have been completed.
    status = "failed" if row["status"] == "scheduled" else (body.outcome or "completed")
    async with engines.pool.acquire() as con, con.transaction():
        ended = await store.mark_ended(
            con, session_id, status, principal.user_id, body.reason, clock.now()
        )
        if ended is not None:
            await emit_ended(con, ended, parties.patient_id, str(principal.user_id))
            await store.clear_presence(con, session_id)
            await record_change(con)
    if ended is None:  # someone else ended it meanwhile
        current = await store.session_by_id(engines.pool, session_id)
        assert current is not None
        return render(current, parties, engines.settings)
    out = render(ended, parties, engines.settings)
    news = out.model_dump(
        mode="json",
        include={"appointment_id", "status", "ended_at", "duration_s", "end_reason"},
    )
    await live.announce_ended(parties.appointment_id, {"session_id": str(session_id), **news})
    await live.stop_recordings(session_id)
    return out
