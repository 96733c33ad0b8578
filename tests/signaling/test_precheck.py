"""The waiting room's pre-call check: the socket probe, and the result kept on the session."""

from __future__ import annotations

import asyncpg
import pytest

from realtime.protocol import CONSULT_NS
from server.settings import Settings
from signaling.protocol import MAX_PROBE_CHARS, PRECHECK_PROBE
from tests.factories import make_user
from tests.realtime.conftest import ConnectProbe, LiveServer
from tests.signaling.helpers import SESSION_API, consultation

pytestmark = pytest.mark.engines

CHECK = {
    "verdict": "audio_only",
    "camera": "denied",
    "microphone": "ok",
    "rtt_ms": 12,
    "throughput_kbps": 25_000,
}


async def test_the_probe_acknowledges_what_it_received_and_refuses_oversized_pads(
    live_server: LiveServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    c = await consultation(live_server.http, db, settings)
    probe = await connect(live_server, [CONSULT_NS], c.patient.user.token, [])
    ack = await probe.call(CONSULT_NS, PRECHECK_PROBE, {"pad": "x" * 1000})
    assert ack == {"ok": True, "data": {"bytes": 1000}}
    huge = await probe.call(CONSULT_NS, PRECHECK_PROBE, {"pad": "x" * (MAX_PROBE_CHARS + 1)})
    assert huge["ok"] is False and huge["error"]["code"] == "invalid_payload"


async def test_a_patients_check_is_kept_on_the_session_for_the_doctor(
    live_server: LiveServer, db: asyncpg.Connection, settings: Settings
) -> None:
    http = live_server.http
    c = await consultation(http, db, settings)
    url = f"{SESSION_API}/{c.session_id}/precheck"
    bad = await http.put(url, json={**CHECK, "verdict": "great"}, headers=c.patient.user.headers)
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    stranger = await make_user(db, settings, "patient")
    admin = await make_user(db, settings, "admin")
    assert (await http.put(url, json=CHECK, headers=stranger.headers)).status_code == 404
    assert (await http.put(url, json=CHECK, headers=admin.headers)).status_code == 403
    assert (await http.get(url, headers=stranger.headers)).status_code == 404
    assert (await http.get(url, headers=c.doctor.user.headers)).json() == {"checks": []}

    saved = await http.put(url, json=CHECK, headers=c.patient.user.headers)
    assert saved.status_code == 200, saved.text
    again = await http.put(url, json={**CHECK, "rtt_ms": 30}, headers=c.patient.user.headers)
    assert again.status_code == 200
    checks = (await http.get(url, headers=c.doctor.user.headers)).json()["checks"]
    assert len(checks) == 1, "the latest check replaces the earlier one"
    assert {k: checks[0][k] for k in CHECK} == {**CHECK, "rtt_ms": 30}
    assert checks[0]["role"] == "patient" and checks[0]["checked_at"]
    audited = await db.fetchval(
        """SELECT count(*) FROM audit.logs
           WHERE user_id = $1 AND action LIKE 'PUT %precheck' AND response_status = 200""",
        c.patient.user.id,
    )
    assert audited == 2
