"""Two server nodes sharing PostgreSQL, NATS and Redis: each client gets each event once."""

from __future__ import annotations

import asyncpg
import pytest

from realtime.protocol import AGENDA_NS, AVAILABILITY_NS, CONSULT_NS, MESSAGE, SLOT_DELTA
from server.settings import Settings
from tests.factories import make_doctor, make_patient
from tests.realtime.conftest import ConnectProbe, StartServer
from tests.realtime.helpers import SlotMirror
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
