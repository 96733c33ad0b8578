"""Recording: only with both consents; the server's aiortc recorder writes each party's media;
files go to the parties and admins only, and every read is audited."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import asyncpg
import av
import pytest

from server.settings import Settings
from signaling.peer import CallPeer, SignalingRefused
from tests.factories import make_user
from tests.realtime.conftest import LiveServer
from tests.signaling.conftest import MakePeer
from tests.signaling.helpers import SESSION_API, Consultation, consultation

pytestmark = pytest.mark.engines

WEBM_MAGIC = bytes.fromhex("1a45dfa3")  # EBML header


async def _consent(server: LiveServer, c: Consultation, who: str, consent: bool = True) -> None:
    user = c.patient.user if who == "patient" else c.doctor.user
    response = await server.http.post(
        f"{SESSION_API}/{c.session_id}/consent", json={"consent": consent}, headers=user.headers
    )
    assert response.status_code == 200, response.text


async def _call(
    server: LiveServer, c: Consultation, make_peer: MakePeer
) -> tuple[CallPeer, CallPeer]:
    patient = make_peer(server.url, c.patient.user.token, c.session_id)
    doctor = make_peer(server.url, c.doctor.user.token, c.session_id)
    await patient.join()
    await doctor.join()
    await doctor.admit()
    await asyncio.gather(doctor.until_media("audio"), patient.until_media("audio"))
    return doctor, patient


async def test_with_both_consents_each_partys_media_is_recorded_for_the_parties_only(
    live_server: LiveServer,
    make_peer: MakePeer,
    db: asyncpg.Connection,
    settings: Settings,
) -> None:
    c = await consultation(live_server.http, db, settings)
    await _consent(live_server, c, "patient")
    doctor, patient = await _call(live_server, c, make_peer)
    with pytest.raises(SignalingRefused) as refused:
        await patient.start_recording()
    assert refused.value.code == "conflict", "the doctor has not consented yet"

    await _consent(live_server, c, "doctor")
    await asyncio.gather(patient.start_recording(), doctor.start_recording())
    async with asyncio.timeout(15):  # a second of audio reached the recorder from each side
        while min([await p.packets_to_recorder() for p in (patient, doctor)]) < 50:
            await asyncio.sleep(0.1)
    assert (await patient.stop_recording())["stopped"] is True
    ended = await live_server.http.post(
        f"{SESSION_API}/{c.session_id}/end", headers=c.doctor.user.headers
    )
    assert ended.status_code == 200
    session = ended.json()
    assert session["recording_url"] == f"{SESSION_API}/{c.session_id}/recording"
    assert session["recording"] == {
        "patient_consent": True,
        "doctor_consent": True,
        "url": session["recording_url"],
    }

    folder = Path(settings.data_dir) / "recordings" / c.session_id
    assert all(p.stat().st_size > 500 for p in folder.glob("*.webm"))
    listing = await live_server.http.get(session["recording_url"], headers=c.patient.user.headers)
    assert listing.status_code == 200, listing.text
    files = listing.json()["files"]
    assert sorted(f["role"] for f in files) == ["doctor", "patient"]
    for file in files:
        assert file["bytes"] > 0
        got = await live_server.http.get(file["url"], headers=c.doctor.user.headers)
        assert got.status_code == 200 and got.headers["content-type"] == "video/webm"
        assert got.content.startswith(WEBM_MAGIC) and len(got.content) == file["bytes"]
        with av.open(io.BytesIO(got.content)) as container:
            assert container.streams.audio[0].codec_context.name == "opus"
            assert sum(1 for packet in container.demux() if packet.size) >= 25

    admin = await make_user(db, settings, "admin")
    stranger = await make_user(db, settings, "doctor")
    assert (await live_server.http.get(files[0]["url"], headers=admin.headers)).status_code == 200
    for url in (session["recording_url"], files[0]["url"]):
        assert (await live_server.http.get(url, headers=stranger.headers)).status_code == 404
    sneaky = f"{session['recording_url']}/..%2F..%2Fnode.log"
    assert (await live_server.http.get(sneaky, headers=admin.headers)).status_code == 404
    reads = await db.fetch(
        """SELECT user_id, response_status FROM audit.logs
           WHERE action LIKE 'consultation.recording_read%' ORDER BY append_id"""
    )
    assert [r["user_id"] for r in reads] == [
        c.patient.user.id,
        c.doctor.user.id,
        c.doctor.user.id,
        admin.id,
        stranger.id,
        stranger.id,
    ]
    assert [r["response_status"] for r in reads][-2:] == [404, 404]


async def test_withdrawing_consent_stops_the_recording_and_refuses_a_new_one(
    live_server: LiveServer,
    make_peer: MakePeer,
    db: asyncpg.Connection,
    settings: Settings,
) -> None:
    c = await consultation(live_server.http, db, settings)
    await _consent(live_server, c, "patient")
    await _consent(live_server, c, "doctor")
    doctor, patient = await _call(live_server, c, make_peer)
    await patient.start_recording()
    await _consent(live_server, c, "patient", consent=False)
    assert (await patient.stop_recording())["stopped"] is False, "already stopped"
    with pytest.raises(SignalingRefused):
        await patient.start_recording()
    session = await live_server.http.get(
        f"{SESSION_API}/{c.session_id}", headers=c.doctor.user.headers
    )
    assert session.json()["recording"]["patient_consent"] is False
