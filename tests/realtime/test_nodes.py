"""Two server nodes sharing PostgreSQL, NATS and Redis: each client gets each event once."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime, timedelta

import asyncpg
import nats
import pytest

from bus import events as bus_events
from realtime.protocol import AGENDA_NS, AVAILABILITY_NS, CONSULT_NS, MESSAGE, SLOT_DELTA
from server.scheduling.events import SlotChanged, emit_slot
from server.settings import Settings
from storage.pool import open_pool
from storage.scheduling.versions import bump_version
from tests.factories import Doctor, make_doctor, make_patient
from tests.realtime.conftest import ConnectProbe, StartServer
from tests.realtime.helpers import WAIT_S, SlotMirror
from tests.server.scheduling.helpers import availability, book, booked, local, put_availability

pytestmark = pytest.mark.engines


async def test_a_booking_through_node_a_reaches_clients_on_node_b_exactly_once(
    start_server: StartServer,
    connect: ConnectProbe,
    db: asyncpg.Connection,
    settings: Settings,
    redis_url: str,
) -> None:
    shared = settings.model_copy(update={"redis_url": redis_url})  # same db, stream, prefix
    node_a, node_b = await start_server(shared), await start_server(shared)
    doctor = await make_doctor(db, settings)
    first, second = await make_patient(db, settings), await make_patient(db, settings)
    await put_availability(node_a.http, doctor, availability(notice=0))
    window = (local(doctor, 2, "08:00"), local(doctor, 2, "20:00"))
    # Enough watchers per node that deltas go out as one room emit, the path Redis could double.
    events = [(AVAILABILITY_NS, SLOT_DELTA)]
    watchers = [
        await connect(node, [AVAILABILITY_NS], events=events)
        for node in (node_a, node_b)
        for _ in range(10)
    ]
    mirrors = [SlotMirror(w, str(doctor.id), *window) for w in watchers]
    versions = {(await m.subscribe())["availability_version"] for m in mirrors}
    desk = await connect(
        node_b, [AGENDA_NS], doctor.user.token, [(AGENDA_NS, "appointment.created")]
    )
    [version] = versions

    assert (await book(node_a.http, first, doctor, local(doctor, 2, "10:00"))).status_code == 201
    # A second booking is the sentinel: once its delta arrived, a duplicate of the first would have.
    assert (await book(node_a.http, second, doctor, local(doctor, 2, "11:00"))).status_code == 201

    for mirror in mirrors:
        await mirror.until_version(version + 2)
        deltas = mirror.probe.got(AVAILABILITY_NS, SLOT_DELTA)
        assert [(d["kind"], d["availability_version"]) for d in deltas] == [
            ("booked", version + 1),
            ("booked", version + 2),
        ]
    await desk.until(lambda: len(desk.got(AGENDA_NS, "appointment.created")) >= 2)
    assert len(desk.got(AGENDA_NS, "appointment.created")) == 2
    fresh = await node_a.http.get(
        "/api/v1/appointments/slots/available",
        params={
            "doctor_id": str(doctor.id),
            "from": window[0].isoformat(),
            "to": window[1].isoformat(),
        },
    )
    assert {len(m.slots) for m in mirrors} == {len(fresh.json()["slots"])}


async def test_chat_between_parties_on_different_nodes_is_delivered_once(
    start_server: StartServer,
    connect: ConnectProbe,
    db: asyncpg.Connection,
    settings: Settings,
    redis_url: str,
) -> None:
    shared = settings.model_copy(update={"redis_url": redis_url})
    node_a, node_b = await start_server(shared), await start_server(shared)
    doctor, patient = await make_doctor(db, settings), await make_patient(db, settings)
    await put_availability(node_a.http, doctor, availability(notice=0))
    appointment = await booked(node_a.http, patient, doctor, local(doctor, 2, "10:00"))
    events = [(CONSULT_NS, MESSAGE), (AGENDA_NS, "waiting_room.joined")]
    on_a = await connect(node_a, [CONSULT_NS], patient.user.token, events)
    on_b = await connect(node_b, [CONSULT_NS, AGENDA_NS], doctor.user.token, events)
    for probe in (on_a, on_b):
        assert (await probe.call(CONSULT_NS, "join", {"appointment_id": appointment["id"]}))["ok"]

    hello = {"appointment_id": appointment["id"], "body": "Bonjour"}
    assert (await on_a.call(CONSULT_NS, "message", hello))["ok"]
    await on_b.until(lambda: bool(on_b.got(CONSULT_NS, MESSAGE)))
    reply = {"appointment_id": appointment["id"], "body": "Bonjour !"}
    assert (await on_b.call(CONSULT_NS, "message", reply))["ok"]
    await on_a.until(lambda: bool(on_a.got(CONSULT_NS, MESSAGE)))
    for n in (1, 2):  # emitted on node A, through Redis, to the doctor's socket on node B
        await node_a.realtime.notify_agenda(doctor.id, "waiting_room.joined", {"n": n})
    await on_b.until(lambda: len(on_b.got(AGENDA_NS, "waiting_room.joined")) >= 2)

    assert [m["body"] for m in on_b.got(CONSULT_NS, MESSAGE)] == ["Bonjour"]
    assert [m["body"] for m in on_a.got(CONSULT_NS, MESSAGE)] == ["Bonjour !"]
    assert on_b.got(AGENDA_NS, "waiting_room.joined") == [{"n": 1}, {"n": 2}]


# A bench-like burst, bounded: concurrent writers on one doctor, as ~50 changes/s would be.
BURST, WRITERS = 300, 4


async def _slot_changes(pool: asyncpg.Pool, doctor: Doctor, at: datetime, count: int) -> None:
    """`count` committed changes of one slot (held, released, ...), each with its own version."""
    for n in range(count):
        async with pool.acquire() as con, con.transaction():
            version = await bump_version(con, doctor.id)
            change = SlotChanged(
                doctor_id=doctor.id,
                appointment_id=uuid.uuid4(),
                start=at,
                end=at + timedelta(minutes=30),
                visit_type="in-person",
                availability_version=version,
            )
            kind = bus_events.SLOT_HELD if n % 2 == 0 else bus_events.SLOT_RELEASED
            await emit_slot(con, kind, change, actor=None)


async def _slot_versions_in_stream(settings: Settings, count: int) -> list[int]:
    """availability_version of the first `count` slot events, in stream order."""
    nc = await nats.connect(settings.nats_url or "")
    try:
        subject = f"{settings.nats_subject_prefix}.slot.>"
        sub = await nc.jetstream().pull_subscribe(subject, stream=settings.nats_stream)
        versions: list[int] = []
        # A deadline, not asyncio.timeout: nats-py may turn a cancellation into a TimeoutError.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_S
        while len(versions) < count and loop.time() < deadline:
            try:
                msgs = await sub.fetch(count - len(versions), timeout=1)
            except (nats.errors.TimeoutError, TimeoutError):
                continue
            for msg in msgs:
                versions.append(json.loads(msg.data)["data"]["availability_version"])
                await msg.ack()
        return versions
    finally:
        await nc.close()


async def test_two_nodes_relaying_a_burst_for_one_doctor_keep_version_order_and_never_resync(
    start_server: StartServer,
    connect: ConnectProbe,
    db: asyncpg.Connection,
    settings: Settings,
    database_url: str,
) -> None:
    # Each node runs its own outbox relay: two relays race for the same rows.
    node_a, node_b = await start_server(settings), await start_server(settings)
    doctor = await make_doctor(db, settings)
    await put_availability(node_a.http, doctor, availability(notice=0))
    window = (local(doctor, 2, "08:00"), local(doctor, 2, "20:00"))
    mirrors = [
        SlotMirror(
            await connect(node, [AVAILABILITY_NS], events=[(AVAILABILITY_NS, SLOT_DELTA)]),
            str(doctor.id),
            *window,
        )
        for node in (node_a, node_b)
    ]
    [start] = {(await m.subscribe())["availability_version"] for m in mirrors}

    async with open_pool(database_url, max_size=WRITERS) as pool:
        at = local(doctor, 2, "10:00")
        await asyncio.gather(
            *(_slot_changes(pool, doctor, at, BURST // WRITERS) for _ in range(WRITERS))
        )

    for mirror in mirrors:
        await mirror.until_version(start + BURST)
        kinds = [d["kind"] for d in mirror.probe.got(AVAILABILITY_NS, SLOT_DELTA)]
        assert "resync" not in kinds and mirror.resyncs == 0
        assert len(kinds) == BURST
    in_stream = await _slot_versions_in_stream(settings, BURST)
    assert in_stream == list(range(start + 1, start + BURST + 1))
