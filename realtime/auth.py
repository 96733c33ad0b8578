"""Socket authentication: the access token on connect, and closing sockets whose session ends.

A socket outlives the request that opened it, so the token's expiry and the session behind it
are watched: a timer disconnects it at `exp`, and a periodic sweep (settings.
socket_session_check_s) disconnects sockets whose session was logged out or revoked.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter, OrderedDict
from dataclasses import dataclass

import jwt
import socketio

from realtime.protocol import SESSION_ENDED, SessionEnded
from server import clock
from server.auth.principal import Principal, authenticate_token
from server.engines import Engines
from server.errors import Unauthenticated
from storage.realtime import live_session_ids

log = logging.getLogger(__name__)

# Sessions whose sockets this node closed lately, remembered so that an admin's suspension counts
# the sockets a concurrent sweep (its own `user.suspended` event) closed first.
RECENTLY_ENDED_SESSIONS = 10_000


def refuse(code: str, message: str) -> socketio.exceptions.ConnectionRefusedError:
    """The connect_error a client receives: message `message`, data `{code, message}`."""
    # Two arguments: python-socketio sends the first as the error's message and the second as
    # its `data` (a single argument would arrive as one stringified message, without data).
    return socketio.exceptions.ConnectionRefusedError(message, {"code": code, "message": message})


@dataclass
class _Tracked:
    session_id: uuid.UUID
    timer: asyncio.TimerHandle


class SessionWatch:
    """Authenticated sockets of this node, keyed by (namespace, sid)."""

    def __init__(self, sio: socketio.AsyncServer) -> None:
        self._sio = sio
        self._live: dict[tuple[str, str], _Tracked] = {}
        self._ending: set[asyncio.Task[None]] = set()
        self._ended: OrderedDict[uuid.UUID, Counter[str]] = OrderedDict()

    async def authenticate(
        self, engines: Engines, namespace: str, sid: str, token: object
    ) -> Principal:
        if not isinstance(token, str) or not token:
            raise refuse("unauthenticated", "Send the access token as auth: {token}.")
        try:
            principal = await authenticate_token(engines, token)
        except Unauthenticated as exc:
            raise refuse("unauthenticated", exc.detail) from exc
        # Signature and expiry were just verified; only the expiry instant is read here.
        expires_at = float(jwt.decode(token, options={"verify_signature": False})["exp"])
        delay = max(expires_at - time.time(), 0.0)
        timer = asyncio.get_running_loop().call_later(
            delay, self._end_later, namespace, sid, "expired"
        )
        self.forget(namespace, sid)
        self._live[(namespace, sid)] = _Tracked(principal.session_id, timer)
        return principal

    def forget(self, namespace: str, sid: str) -> None:
        tracked = self._live.pop((namespace, sid), None)
        if tracked is not None:
            tracked.timer.cancel()

    def _end_later(self, namespace: str, sid: str, reason: str) -> None:
        task = asyncio.get_running_loop().create_task(self.end(namespace, sid, reason))
        self._ending.add(task)
        task.add_done_callback(self._ending.discard)

    async def end(self, namespace: str, sid: str, reason: str) -> None:
        """Tell the client why, then close its namespace connection."""
        tracked = self._live.get((namespace, sid))
        if tracked is None:
            return
        self.forget(namespace, sid)
        self._remember_ended(tracked.session_id, reason)
        payload = SessionEnded.model_validate({"reason": reason}).model_dump(mode="json")
        log.info("socket session ended", extra={"namespace": namespace, "reason": reason})
        try:
            await self._sio.emit(
                SESSION_ENDED, payload, to=sid, namespace=namespace, ignore_queue=True
            )
            await self._sio.disconnect(sid, namespace=namespace, ignore_queue=True)
        except Exception:  # the client left meanwhile
            log.debug("socket already gone", exc_info=True)

    def _remember_ended(self, session_id: uuid.UUID, reason: str) -> None:
        ended = self._ended.setdefault(session_id, Counter())
        ended[reason] += 1
        self._ended.move_to_end(session_id)
        if len(self._ended) > RECENTLY_ENDED_SESSIONS:
            self._ended.popitem(last=False)

    async def end_sessions(self, session_ids: set[uuid.UUID], reason: str) -> int:
        """Close this node's sockets of those sessions at once (e.g. an account suspended).

        Returns how many sockets of those sessions this node has closed for `reason`, whichever
        path closed them: the sweep that the account's own event triggers may come first.
        """
        doomed = [key for key, t in self._live.items() if t.session_id in session_ids]
        for namespace, sid in doomed:
            await self.end(namespace, sid, reason)
        return sum(self._ended[s][reason] for s in session_ids if s in self._ended)

    async def sweep(self, engines: Engines) -> int:
        """Close sockets whose session is no longer live; return how many."""
        if not self._live:
            return 0
        # Judge only the sockets asked about: one that connects while the query runs is not in
        # its answer, yet live (ending it was a race seen under load).
        asked = dict(self._live)
        sessions = {t.session_id for t in asked.values()}
        async with engines.pool.acquire() as con:
            live = await live_session_ids(con, list(sessions), clock.now())
        dead = [key for key, t in asked.items() if t.session_id not in live]
        for namespace, sid in dead:
            await self.end(namespace, sid, "revoked")
        return len(dead)

    async def sweep_forever(self, engines: Engines, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.sweep(engines)
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be briefly away: next sweep retries
                log.warning("socket session sweep failed", exc_info=True)

    async def close(self) -> None:
        for tracked in self._live.values():
            tracked.timer.cancel()
        self._live.clear()
        for task in list(self._ending):
            task.cancel()
        await asyncio.gather(*self._ending, return_exceptions=True)
