"""Recording consent and recorded files: files go to the two parties and admins only, and
every read (or refused read) is audited. The recorder itself is signaling/recorder.py, reached
through the LiveCalls port."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from starlette.requests import HTTPConnection

from server import clock
from server.audit.service import record_change
from server.auth.principal import Principal
from server.engines import Engines
from server.errors import NotFound
from server.teleconsult.errors import (
    NO_SUCH_CONSULTATION,
    NO_SUCH_RECORDING,
    PARTIES_CONSENT,
)
from server.teleconsult.ports import LiveCalls
from server.teleconsult.schemas import RecordingFile, RecordingList, SessionOut
from server.teleconsult.service import open_session_role, render, visible_session
from storage import teleconsult as store

# Names the recorder writes; anything else (e.g. "../x") is not a recording.
_FILE = re.compile(r"^(patient|doctor)-\d{13}\.webm$")


async def set_consent(
    engines: Engines, live: LiveCalls, principal: Principal, session_id: uuid.UUID, consent: bool
) -> SessionOut:
    """A party gives or withdraws its own consent; withdrawing stops any recording."""
    _, parties, role = await open_session_role(engines.pool, principal, session_id, PARTIES_CONSENT)
    async with engines.pool.acquire() as con, con.transaction():
        updated = await store.record_consent(con, session_id, role, consent, clock.now())
        if updated is not None:
            await record_change(con)
    if updated is None:
        raise NotFound(NO_SUCH_CONSULTATION)
    if not consent:
        await live.stop_recordings(session_id)
    return render(updated, parties, engines.settings)


def _folder(engines: Engines, recording_path: str | None) -> Path | None:
    return engines.settings.data_dir / recording_path if recording_path else None


async def list_recording(
    engines: Engines, principal: Principal, session_id: uuid.UUID, request: HTTPConnection
) -> RecordingList:
    row, _ = await visible_session(
        engines, principal, session_id, "consultation.recording_read", request
    )
    folder = _folder(engines, row["recording_path"])
    paths = sorted(folder.iterdir()) if folder is not None and folder.is_dir() else []
    files = [
        RecordingFile(
            name=path.name,
            role="patient" if path.name.startswith("patient") else "doctor",
            bytes=path.stat().st_size,
            url=f"{row['recording_url']}/{path.name}",
        )
        for path in paths
        if _FILE.match(path.name)
    ]
    return RecordingList(session_id=session_id, files=files)


async def recording_file(
    engines: Engines,
    principal: Principal,
    session_id: uuid.UUID,
    name: str,
    request: HTTPConnection,
) -> Path:
    if not _FILE.match(name):
        raise NotFound(NO_SUCH_RECORDING)
    row, _ = await visible_session(
        engines, principal, session_id, "consultation.recording_read", request
    )
    folder = _folder(engines, row["recording_path"])
    path = folder / name if folder is not None else None
    if path is None or not path.is_file():
        raise NotFound(NO_SUCH_RECORDING)
    return path
