"""/availability over a real server: snapshot + deltas, reconnects, gaps, limits."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import asyncpg
import pytest

from bus import events
from bus.outbox import emit
from realtime import availability as realtime_availability
from realtime.protocol import AVAILABILITY_NS, SLOT_DELTA
from server import clock
from server.scheduling.service import list_available_slots
from server.settings import Settings
from tests.factories import Doctor, make_doctor, make_patient
from tests.realtime.conftest import ConnectProbe, LiveServer
from tests.realtime.helpers import Key, SlotMirror, page_keys
from tests.server.scheduling.helpers import availability, book, local, put_availability

pytestmark = pytest.mark.engines


async def _doctor_with_slots(
    db: asyncpg.Connection, settings: Settings, server: LiveServer
) -> Doctor:
    doctor = await make_doctor(db, settings)
    await put_availability(server.http, doctor, availability(notice=0))
    return doctor


async def _fresh(server: LiveServer, mirror: SlotMirror) -> tuple[int, set[Key]]:
    response = await server.http.get(
        "/api/v1/appointments/slots/available",
        params={
            "doctor_id": mirror.doctor_id,
            "from": mirror.start.isoformat(),
            "to": mirror.end.isoformat(),
        },
    )
    assert response.status_code == 200, response.text
    page = response.json()
    return page["availability_version"], page_keys(page)


async def test_a_watcher_sees_a_slot_disappear_when_another_patient_books_it(
    live_server: LiveServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await _doctor_with_slots(db, settings, live_server)
    patient = await make_patient(db, settings)
    watcher = await connect(live_server, [AVAILABILITY_NS], events=[(AVAILABILITY_NS, SLOT_DELTA)])
    mirror = SlotMirror(
        watcher, str(doctor.id), local(doctor, 2, "08:00"), local(doctor, 2, "20:00")
    )
    snapshot = await mirror.subscribe()
    ten = local(doctor, 2, "10:00")
    assert any(k[0] == ten for k in mirror.slots)

    response = await book(live_server.http, patient, doctor, ten)
    assert response.status_code == 201, response.text

    await mirror.until_version(snapshot["availability_version"] + 1)
    [delta] = watcher.got(AVAILABILITY_NS, SLOT_DELTA)
    assert delta["kind"] == "booked" and delta["doctor_id"] == str(doctor.id)
    assert not any(k[0] == ten for k in mirror.slots)
    assert (mirror.version, mirror.slots) == await _fresh(live_server, mirror)


async def test_a_client_reconnecting_during_changes_ends_with_the_fresh_snapshot(
    live_server: LiveServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await _doctor_with_slots(db, settings, live_server)
    patients = [await make_patient(db, settings) for _ in range(6)]
    times = [local(doctor, 2, f"{h:02d}:00") for h in range(9, 15)]
    window = (local(doctor, 2, "08:00"), local(doctor, 2, "20:00"))
    first = await connect(live_server, [AVAILABILITY_NS], events=[(AVAILABILITY_NS, SLOT_DELTA)])
    mirror = SlotMirror(first, str(doctor.id), *window)
    await mirror.subscribe()
    booked = [await book(live_server.http, patients[i], doctor, times[i]) for i in range(2)]
    assert all(r.status_code == 201 for r in booked)
    await first.client.disconnect()

    # While nobody listens: two more bookings and a cancellation.
    for i in (2, 3):
        assert (await book(live_server.http, patients[i], doctor, times[i])).status_code == 201
    cancel = await live_server.http.post(
        f"/api/v1/appointments/{booked[0].json()['id']}/cancel",
        json={"reason": "away"},
        headers=doctor.user.headers,
    )
    assert cancel.status_code == 200, cancel.text

    # Reconnect: subscribe again while two more bookings race the snapshot.
    second = await connect(live_server, [AVAILABILITY_NS], events=[(AVAILABILITY_NS, SLOT_DELTA)])
    mirror = SlotMirror(second, str(doctor.id), *window)
    _, *late = await asyncio.gather(
        mirror.subscribe(),
        *(book(live_server.http, patients[i], doctor, times[i]) for i in (4, 5)),
    )
    assert all(r.status_code == 201 for r in late)

    version, fresh = await _fresh(live_server, mirror)
    await mirror.until_version(version)
    assert mirror.slots == fresh
    assert times[0] in {k[0] for k in fresh} and times[5] not in {k[0] for k in fresh}


async def test_a_version_gap_or_an_availability_change_tells_the_client_to_resync(
    live_server: LiveServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await _doctor_with_slots(db, settings, live_server)
    watcher = await connect(live_server, [AVAILABILITY_NS], events=[(AVAILABILITY_NS, SLOT_DELTA)])
    mirror = SlotMirror(
        watcher, str(doctor.id), local(doctor, 2, "08:00"), local(doctor, 2, "20:00")
    )
    version = (await mirror.subscribe())["availability_version"]
    start = local(doctor, 2, "11:00")
    slot = {"start": start, "end": start + timedelta(minutes=30), "visit_type": "in-person"}

    async with db.transaction():  # a version the node never saw the predecessor of
        await emit(
            db,
            events.SLOT_BOOKED,
            f"doctor:{doctor.id}",
            {
                "doctor_id": doctor.id,
                "appointment_id": uuid.uuid4(),
                **slot,
                "availability_version": version + 2,
            },
            at=clock.now(),
        )
    await watcher.until(lambda: len(watcher.got(AVAILABILITY_NS, SLOT_DELTA)) == 1)
    [gap] = watcher.got(AVAILABILITY_NS, SLOT_DELTA)
    assert gap["kind"] == "resync" and gap["slot"] is None
    await mirror.catch_up()  # re-subscribes
    assert mirror.resyncs == 1

    async with db.transaction():
        await emit(
            db,
            events.DOCTOR_AVAILABILITY_UPDATED,
            f"doctor:{doctor.id}",
            {"doctor_id": doctor.id, "availability_version": version + 1},
            at=clock.now(),
        )
    await watcher.until(lambda: len(watcher.got(AVAILABILITY_NS, SLOT_DELTA)) == 2)
    assert watcher.got(AVAILABILITY_NS, SLOT_DELTA)[1]["kind"] == "resync"


async def test_changes_outside_the_watched_range_are_not_sent(
    live_server: LiveServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await _doctor_with_slots(db, settings, live_server)
    patient, other = await make_patient(db, settings), await make_patient(db, settings)
    watcher = await connect(live_server, [AVAILABILITY_NS], events=[(AVAILABILITY_NS, SLOT_DELTA)])
    mirror = SlotMirror(
        watcher, str(doctor.id), local(doctor, 2, "08:00"), local(doctor, 2, "12:00")
    )
    version = (await mirror.subscribe())["availability_version"]

    assert (
        await book(live_server.http, patient, doctor, local(doctor, 2, "15:00"))
    ).status_code == 201
    assert (
        await book(live_server.http, other, doctor, local(doctor, 2, "09:00"))
    ).status_code == 201

    await mirror.until_version(version + 2)
    [delta] = watcher.got(AVAILABILITY_NS, SLOT_DELTA)  # the 15:00 booking was never sent
    assert delta["kind"] == "booked" and delta["availability_version"] == version + 2
    assert mirror.resyncs == 0


async def test_a_change_racing_the_snapshot_is_sent_after_the_ack_not_lost(
    live_server: LiveServer,
    connect: ConnectProbe,
    db: asyncpg.Connection,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    doctor = await _doctor_with_slots(db, settings, live_server)
    patient = await make_patient(db, settings)
    window = (local(doctor, 2, "08:00"), local(doctor, 2, "20:00"))
    events = [(AVAILABILITY_NS, SLOT_DELTA)]
    early = await connect(live_server, [AVAILABILITY_NS], events=events)
    early_mirror = SlotMirror(early, str(doctor.id), *window)
    version = (await early_mirror.subscribe())["availability_version"]
    late = await connect(live_server, [AVAILABILITY_NS])
    order: list[object] = []

    def record_delta(delta: dict[str, object]) -> None:
        order.append(delta["availability_version"])
        late.changed.set()

    late.client.on(SLOT_DELTA, record_delta, AVAILABILITY_NS)
    handle_ack = late.client._handle_ack  # packets are handled in arrival order up to here

    async def record_ack(*args: object) -> None:
        order.append("ack")
        await handle_ack(*args)

    late.client._handle_ack = record_ack
    read, release = asyncio.Event(), asyncio.Event()

    async def held_snapshot(*args: object, **kwargs: object) -> object:
        page = await list_available_slots(*args, **kwargs)  # type: ignore[arg-type]
        read.set()
        await release.wait()  # the server is slow to answer: a booking commits meanwhile
        return page

    monkeypatch.setattr(realtime_availability, "list_available_slots", held_snapshot)
    subscribing = asyncio.create_task(
        late.call(
            AVAILABILITY_NS,
            "subscribe",
            {
                "doctor_id": str(doctor.id),
                "from": window[0].isoformat(),
                "to": window[1].isoformat(),
            },
        )
    )
    await read.wait()
    assert (
        await book(live_server.http, patient, doctor, local(doctor, 2, "10:00"))
    ).status_code == 201
    await early_mirror.until_version(version + 1)  # the node has routed the change by now
    release.set()
    ack = await subscribing

    assert ack["ok"] and ack["data"]["availability_version"] == version
    await late.until(lambda: len(order) == 2)
    assert order == ["ack", version + 1]


async def test_a_move_snapshot_leaves_out_the_callers_own_appointment_only(
    live_server: LiveServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await _doctor_with_slots(db, settings, live_server)
    patient, stranger = await make_patient(db, settings), await make_patient(db, settings)
    ten = local(doctor, 2, "10:00")
    response = await book(live_server.http, patient, doctor, ten)
    assert response.status_code == 201, response.text
    request = {
        "doctor_id": str(doctor.id),
        "from": local(doctor, 2, "09:00").isoformat(),
        "to": local(doctor, 2, "11:00").isoformat(),
        "excluding_appointment_id": response.json()["id"],
    }
    starts: dict[str, list[str]] = {}
    for name, token in (("patient", patient.user.token), ("doctor", doctor.user.token)):
        probe = await connect(live_server, [AVAILABILITY_NS], token=token)
        ack = await probe.call(AVAILABILITY_NS, "subscribe", request)
        assert ack["ok"], ack
        starts[name] = [s["start"][11:16] for s in ack["data"]["slots"]]
    assert starts["patient"] == starts["doctor"] == ["09:00", "09:30", "10:00", "10:30"]

    for token, code in ((None, "unauthenticated"), (stranger.user.token, "not_found")):
        probe = await connect(live_server, [AVAILABILITY_NS], token=token)
        ack = await probe.call(AVAILABILITY_NS, "subscribe", request)
        assert not ack["ok"] and ack["error"]["code"] == code
        assert "10:00" not in str(ack)
