"""`call.record` / `call.record_stop`: a party's media also goes to the server's recorder,
only while the call is in progress and both parties have consented (signaling/recorder.py)."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from realtime.acks import SocketError
from server.audit.service import record_access
from server.teleconsult.errors import RecordingRefused
from server.teleconsult.service import RESOURCE
from signaling.calls import current_call
from signaling.protocol import Description, RecordingAnswer
from signaling.recorder import recorders_of
from storage import teleconsult as store

if TYPE_CHECKING:
    from realtime.consult import ConsultContext

log = logging.getLogger(__name__)

RECORDING_API = "/api/v1/teleconsultation/session/{session_id}/recording"


async def record(ctx: ConsultContext, session_id: uuid.UUID, offer: Description) -> RecordingAnswer:
    call = await current_call(ctx, session_id)
    if call.me == "guest":
        raise SocketError("forbidden", "Only the patient and the doctor record their media.")
    pool = ctx.hub.engines.pool
    row = await store.session_by_id(pool, session_id)
    if row is None or call.status != "active":
        raise RecordingRefused("Recording starts once the consultation is in progress.")
    if row["patient_consent_at"] is None or row["doctor_consent_at"] is None:
        raise RecordingRefused("Recording needs the consent of both the patient and the doctor.")
    recorders = recorders_of(ctx.hub)
    answer, path = await recorders.start(session_id, call.me, ctx.sid, offer)
    folder = path.parent.relative_to(ctx.hub.settings.data_dir)
    await store.set_recording(
        pool, session_id, str(folder), RECORDING_API.format(session_id=session_id)
    )
    await record_access(
        pool,
        principal=ctx.principal,
        action="consultation.recording_started",
        resource_type=RESOURCE,
        resource_id=session_id,
        payload={"role": call.me, "file": path.name},
    )
    return RecordingAnswer(session_id=session_id, description=answer)


async def record_stop(ctx: ConsultContext, session_id: uuid.UUID) -> dict[str, Any]:
    call = await current_call(ctx, session_id)
    if call.me == "guest":
        return {"session_id": str(session_id), "stopped": False}
    stopped = await recorders_of(ctx.hub).stop(session_id, call.me, ctx.sid)
    return {"session_id": str(session_id), "stopped": stopped}
