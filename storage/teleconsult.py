"""SQL of teleconsultation (schema `teleconsult`): sessions, call presence, consents."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, TypeAlias

import asyncpg

Executor: TypeAlias = asyncpg.Connection | asyncpg.Pool

_COLUMNS = """id, appointment_id, doctor_id, room_id, status, created_at, started_at, ended_at,
    duration_s, ended_by, end_reason, patient_consent_at, doctor_consent_at, recording_path,
    recording_url"""


async def insert_session(
    con: Executor, appointment_id: uuid.UUID, doctor_id: uuid.UUID, room_id: str, now: datetime
) -> asyncpg.Record | None:
    """The new session (created at `now`), or None when the appointment already has one."""
    row: asyncpg.Record | None = await con.fetchrow(
        f"""INSERT INTO teleconsult.sessions (appointment_id, doctor_id, room_id, created_at)
            VALUES ($1, $2, $3, $4)
            ON CONFLICT (appointment_id) DO NOTHING
            RETURNING {_COLUMNS}""",
        appointment_id,
        doctor_id,
        room_id,
        now,
    )
    return row


async def session_by_id(con: Executor, session_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await con.fetchrow(
        f"SELECT {_COLUMNS} FROM teleconsult.sessions WHERE id = $1", session_id
    )
    return row


async def session_by_appointment(con: Executor, appointment_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await con.fetchrow(
        f"SELECT {_COLUMNS} FROM teleconsult.sessions WHERE appointment_id = $1", appointment_id
    )
    return row


async def mark_started(
    con: asyncpg.Connection, session_id: uuid.UUID, at: datetime
) -> asyncpg.Record | None:
    """scheduled -> active at `at`; None when it was not scheduled (already started or ended)."""
    row: asyncpg.Record | None = await con.fetchrow(
        f"""UPDATE teleconsult.sessions SET status = 'active', started_at = $2
            WHERE id = $1 AND status = 'scheduled'
            RETURNING {_COLUMNS}""",
        session_id,
        at,
    )
    return row


async def mark_ended(
    con: asyncpg.Connection,
    session_id: uuid.UUID,
    status: str,
    ended_by: uuid.UUID | None,
    reason: str | None,
    at: datetime,
) -> asyncpg.Record | None:
    """End an open session at `at`; duration in whole seconds since the start, 0 if it never
    started. None when it had already ended, so concurrent ends emit one event."""
    row: asyncpg.Record | None = await con.fetchrow(
        f"""WITH ending AS (SELECT greatest($5, started_at) AS at
                            FROM teleconsult.sessions WHERE id = $1)
            UPDATE teleconsult.sessions
            SET status = $2, ended_at = ending.at, ended_by = $3, end_reason = $4,
                duration_s = CASE WHEN started_at IS NULL THEN 0
                             ELSE floor(extract(epoch FROM ending.at - started_at))::int END
            FROM ending
            WHERE id = $1 AND status IN ('scheduled', 'active')
            RETURNING {_COLUMNS}""",
        session_id,
        status,
        ended_by,
        reason,
        at,
    )
    return row


async def active_sessions(con: Executor, limit: int) -> list[asyncpg.Record]:
    """Sessions in progress, oldest start first (the sweeper checks their window)."""
    rows: list[asyncpg.Record] = await con.fetch(
        f"""SELECT {_COLUMNS} FROM teleconsult.sessions WHERE status = 'active'
            ORDER BY started_at LIMIT $1""",
        limit,
    )
    return rows


async def record_consent(
    con: Executor, session_id: uuid.UUID, role: str, consent: bool, at: datetime
) -> asyncpg.Record | None:
    """Give at `at` (keeping the first instant) or withdraw one party's consent to recording."""
    row: asyncpg.Record | None = await con.fetchrow(
        f"""UPDATE teleconsult.sessions SET
              patient_consent_at = CASE WHEN $2 <> 'patient' THEN patient_consent_at
                                        WHEN $3 THEN coalesce(patient_consent_at, $4) END,
              doctor_consent_at = CASE WHEN $2 <> 'doctor' THEN doctor_consent_at
                                       WHEN $3 THEN coalesce(doctor_consent_at, $4) END
            WHERE id = $1 RETURNING {_COLUMNS}""",
        session_id,
        role,
        consent,
        at,
    )
    return row


async def set_recording(
    con: Executor, session_id: uuid.UUID, path: str, url: str
) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await con.fetchrow(
        f"""UPDATE teleconsult.sessions SET recording_path = $2, recording_url = $3
            WHERE id = $1 RETURNING {_COLUMNS}""",
        session_id,
        path,
        url,
    )
    return row


async def fail_open_session_of_appointment(
    con: asyncpg.Connection, appointment_id: uuid.UUID, reason: str, at: datetime
) -> asyncpg.Record | None:
    """A cancelled appointment's session that never started fails at `at`; None if none was."""
    row: asyncpg.Record | None = await con.fetchrow(
        f"""UPDATE teleconsult.sessions
            SET status = 'failed', ended_at = $3, duration_s = 0, end_reason = $2
            WHERE appointment_id = $1 AND status = 'scheduled'
            RETURNING {_COLUMNS}""",
        appointment_id,
        reason,
        at,
    )
    return row


# Presence: who is in a session's call, one socket per role.


async def claim_presence(
    con: asyncpg.Connection,
    session_id: uuid.UUID,
    role: str,
    user_id: uuid.UUID,
    sid: str,
    now: datetime,
) -> str | None:
    """Make `sid` the role's socket in the call (joined at `now`); return the socket it
    replaced, if any."""
    async with con.transaction():
        previous: str | None = await con.fetchval(
            """SELECT sid FROM teleconsult.presence WHERE session_id = $1 AND role = $2
               FOR UPDATE""",
            session_id,
            role,
        )
        await con.execute(
            """INSERT INTO teleconsult.presence (session_id, role, user_id, sid, joined_at)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (session_id, role)
               DO UPDATE SET user_id = EXCLUDED.user_id, sid = EXCLUDED.sid,
                             joined_at = EXCLUDED.joined_at""",
            session_id,
            role,
            user_id,
            sid,
            now,
        )
    return previous if previous != sid else None


async def presence_of(con: Executor, session_id: uuid.UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await con.fetch(
        """SELECT role, user_id, sid, joined_at FROM teleconsult.presence
           WHERE session_id = $1""",
        session_id,
    )
    return rows


async def sid_of(con: Executor, session_id: uuid.UUID, role: str) -> str | None:
    sid: str | None = await con.fetchval(
        "SELECT sid FROM teleconsult.presence WHERE session_id = $1 AND role = $2",
        session_id,
        role,
    )
    return sid


async def release_presence(con: Executor, session_id: uuid.UUID, sid: str) -> str | None:
    """Remove `sid` from the call; the role it held, or None if it had been replaced."""
    role: str | None = await con.fetchval(
        """DELETE FROM teleconsult.presence WHERE session_id = $1 AND sid = $2
           RETURNING role""",
        session_id,
        sid,
    )
    return role


async def clear_presence(con: Executor, session_id: uuid.UUID) -> list[str]:
    sids: list[str] = [
        r["sid"]
        for r in await con.fetch(
            "DELETE FROM teleconsult.presence WHERE session_id = $1 RETURNING sid", session_id
        )
    ]
    return sids


async def call_state(con: Executor, session_id: uuid.UUID) -> list[asyncpg.Record]:
    """The session's status and each present socket (one row with null role when empty),
    in one round trip: relayed ICE candidates are frequent."""
    rows: list[asyncpg.Record] = await con.fetch(
        """SELECT s.appointment_id, s.doctor_id, s.status, s.started_at, p.role, p.sid
           FROM teleconsult.sessions s
           LEFT JOIN teleconsult.presence p ON p.session_id = s.id
           WHERE s.id = $1""",
        session_id,
    )
    return rows


_PRECHECK = "role, verdict, camera, microphone, rtt_ms, throughput_kbps, checked_at"


async def save_precheck(
    con: Executor, session_id: uuid.UUID, user_id: uuid.UUID, role: str, check: dict[str, Any]
) -> asyncpg.Record:
    """Keep a party's latest pre-call check (`check`: verdict, camera, microphone, rtt_ms,
    throughput_kbps, checked_at)."""
    row: asyncpg.Record = await con.fetchrow(
        f"""INSERT INTO teleconsult.precall_checks
              (session_id, role, user_id, verdict, camera, microphone, rtt_ms, throughput_kbps,
               checked_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            ON CONFLICT (session_id, role) DO UPDATE SET
              user_id = $3, verdict = $4, camera = $5, microphone = $6, rtt_ms = $7,
              throughput_kbps = $8, checked_at = $9
            RETURNING {_PRECHECK}""",
        session_id,
        role,
        user_id,
        check["verdict"],
        check["camera"],
        check["microphone"],
        check["rtt_ms"],
        check["throughput_kbps"],
        check["checked_at"],
    )
    return row


async def prechecks_of(con: Executor, session_id: uuid.UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await con.fetch(
        f"SELECT {_PRECHECK} FROM teleconsult.precall_checks WHERE session_id = $1 ORDER BY role",
        session_id,
    )
    return rows
