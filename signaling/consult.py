"""The signaling extension of /consult: server/app.py hands it to the hub (Realtime).

Handlers only parse the payload and call signaling.calls (docs/realtime.md, "Signaling").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bus import events
from realtime.acks import SocketError
from realtime.consult import ConsultExtension
from signaling import calls, guests, recording, rooms
from signaling.protocol import (
    CALL_ADMIT,
    CALL_ADMIT_GUEST,
    CALL_ANSWER,
    CALL_HANGUP,
    CALL_ICE,
    CALL_JOIN,
    CALL_MEDIA,
    CALL_OFFER,
    CALL_RECORD,
    CALL_RECORD_STOP,
    CALL_REFUSE_GUEST,
    PRECHECK_PROBE,
    Admitted,
    CallJoined,
    CallJoinIn,
    DescriptionIn,
    GuestState,
    IceIn,
    MediaIn,
    ProbeAck,
    ProbeIn,
    RecordingAnswer,
    Relayed,
    SessionRef,
)

if TYPE_CHECKING:
    from realtime.consult import ConsultContext


async def _join(ctx: ConsultContext, data: Any) -> CallJoined:
    return await calls.join(ctx, CallJoinIn.model_validate(data))


async def _admit(ctx: ConsultContext, data: Any) -> Admitted:
    return await calls.admit(ctx, SessionRef.model_validate(data).session_id)


async def _description(ctx: ConsultContext, data: Any, kind: str, event: str) -> Relayed:
    request = DescriptionIn.model_validate(data)
    if request.description.type != kind:
        raise SocketError("invalid_payload", f"{event} carries a description of type {kind!r}.")
    body = {"description": request.description.model_dump()}
    return await calls.relay(ctx, request.session_id, event, body, request.to)


async def _offer(ctx: ConsultContext, data: Any) -> Relayed:
    return await _description(ctx, data, "offer", CALL_OFFER)


async def _answer(ctx: ConsultContext, data: Any) -> Relayed:
    return await _description(ctx, data, "answer", CALL_ANSWER)


async def _ice(ctx: ConsultContext, data: Any) -> Relayed:
    request = IceIn.model_validate(data)
    candidate = request.candidate.model_dump() if request.candidate else None
    body = {"candidate": candidate}
    return await calls.relay(ctx, request.session_id, CALL_ICE, body, request.to)


async def _media(ctx: ConsultContext, data: Any) -> Relayed:
    request = MediaIn.model_validate(data)
    body = request.model_dump(mode="json", exclude={"session_id", "to"})
    return await calls.relay(ctx, request.session_id, CALL_MEDIA, body, request.to)


async def _admit_guest(ctx: ConsultContext, data: Any) -> GuestState:
    session_id = SessionRef.model_validate(data).session_id
    return await guests.admit(ctx, await calls.current_call(ctx, session_id))


async def _refuse_guest(ctx: ConsultContext, data: Any) -> dict[str, Any]:
    session_id = SessionRef.model_validate(data).session_id
    return await guests.refuse(ctx, await calls.current_call(ctx, session_id))


async def _probe(ctx: ConsultContext, data: Any) -> ProbeAck:
    return ProbeAck(bytes=len(ProbeIn.model_validate(data).pad))


async def _hangup(ctx: ConsultContext, data: Any) -> dict[str, Any]:
    return await calls.hangup(ctx, SessionRef.model_validate(data).session_id)


async def _record(ctx: ConsultContext, data: Any) -> RecordingAnswer:
    request = DescriptionIn.model_validate(data)
    if request.description.type != "offer":
        raise SocketError("invalid_payload", "call.record carries the party's offer.")
    return await recording.record(ctx, request.session_id, request.description)


async def _record_stop(ctx: ConsultContext, data: Any) -> dict[str, Any]:
    return await recording.record_stop(ctx, SessionRef.model_validate(data).session_id)


SIGNALING = ConsultExtension(
    handlers={
        CALL_JOIN: _join,
        CALL_ADMIT: _admit,
        CALL_ADMIT_GUEST: _admit_guest,
        CALL_REFUSE_GUEST: _refuse_guest,
        CALL_OFFER: _offer,
        CALL_ANSWER: _answer,
        CALL_ICE: _ice,
        CALL_MEDIA: _media,
        PRECHECK_PROBE: _probe,
        CALL_HANGUP: _hangup,
        CALL_RECORD: _record,
        CALL_RECORD_STOP: _record_stop,
    },
    on_leave=calls.on_leave,
    # Ends the system made (window or appointment closed) reach the room from every node.
    bus_events={events.TELECONSULTATION_ENDED: rooms.publish_system_end},
)
