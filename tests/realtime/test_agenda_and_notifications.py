"""/agenda follows a doctor's own appointments; /notifications reaches one user's devices."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from bus.events import APPOINTMENT_CREATED, Envelope
from realtime.fanout import RecentIds
from realtime.protocol import AGENDA_NS, NOTIFICATION, NOTIFICATIONS_NS, Notification
from server import clock
from server.settings import Settings
from tests.factories import make_doctor, make_patient
from tests.realtime.conftest import ConnectProbe, LiveServer
from tests.server.scheduling.helpers import availability, booked, local, put_availability

pytestmark = pytest.mark.engines

AGENDA_EVENTS = [
    (AGENDA_NS, "appointment.created"),
    (AGENDA_NS, "appointment.cancelled"),
    (AGENDA_NS, "waiting_room.joined"),
]


async def test_a_doctor_sees_own_appointments_change_and_waiting_room_news(
    live_server: LiveServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, colleague = await make_doctor(db, settings), await make_doctor(db, settings)
    patient = await make_patient(db, settings)
    await put_availability(live_server.http, doctor, availability(notice=0))
    desk = await connect(live_server, [AGENDA_NS], doctor.user.token, AGENDA_EVENTS)
    other = await connect(live_server, [AGENDA_NS], colleague.user.token, AGENDA_EVENTS)

    appointment = await booked(live_server.http, patient, doctor, local(doctor, 2, "10:00"))
    cancel = await live_server.http.post(
        f"/api/v1/appointments/{appointment['id']}/cancel",
        json={"reason": "congress"},
        headers=doctor.user.headers,
    )
    assert cancel.status_code == 200, cancel.text
    await live_server.realtime.notify_agenda(
        doctor.id, "waiting_room.joined", {"appointment_id": appointment["id"]}
    )

    await desk.until(lambda: bool(desk.got(AGENDA_NS, "waiting_room.joined")))
    await desk.until(lambda: bool(desk.got(AGENDA_NS, "appointment.cancelled")))
    [created] = desk.got(AGENDA_NS, "appointment.created")
    assert created["appointment_id"] == appointment["id"]
    assert created["status"] == "scheduled" and created["patient_id"] == str(patient.id)
    assert {"event_id", "occurred_at", "availability_version"} <= set(created)
    [cancelled] = desk.got(AGENDA_NS, "appointment.cancelled")
    assert cancelled["reason"] == "congress" and cancelled["status"] == "cancelled"
    # Each event names the patient as the agenda does, so no page has to look the patient up.
    for event in (created, cancelled):
        assert event["patient"]["first_name"] == "Jeanne"
        assert event["patient"]["last_name"] == "Martin"
    assert cancelled["patient"]["phone"] is None  # no booked appointment with them any more
    # The colleague's own news arrives, and nothing of the other doctor's ever did.
    await live_server.realtime.notify_agenda(colleague.id, "waiting_room.joined", {})
    await other.until(lambda: bool(other.got(AGENDA_NS, "waiting_room.joined")))
    assert other.got(AGENDA_NS, "appointment.created") == []
    assert other.got(AGENDA_NS, "appointment.cancelled") == []


async def test_notifications_reach_every_device_of_their_user_only(
    live_server: LiveServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    patient, other = await make_patient(db, settings), await make_patient(db, settings)
    events = [(NOTIFICATIONS_NS, NOTIFICATION)]
    phone = await connect(live_server, [NOTIFICATIONS_NS], patient.user.token, events)
    laptop = await connect(live_server, [NOTIFICATIONS_NS], patient.user.token, events)
    stranger = await connect(live_server, [NOTIFICATIONS_NS], other.user.token, events)
    note = Notification(
        kind="appointment.reminder",
        title="Tomorrow 10:00",
        data={"appointment_id": "x"},
        created_at=clock.now(),
    )

    await live_server.realtime.notify_user(patient.user.id, note)

    for device in (phone, laptop):
        await device.until(lambda d=device: bool(d.got(NOTIFICATIONS_NS, NOTIFICATION)))  # type: ignore[misc]
        assert device.got(NOTIFICATIONS_NS, NOTIFICATION) == [note.model_dump(mode="json")]
    own = note.model_copy(update={"title": "Yours"})
    await live_server.realtime.notify_user(other.user.id, own)
    await stranger.until(lambda: bool(stranger.got(NOTIFICATIONS_NS, NOTIFICATION)))
    assert stranger.got(NOTIFICATIONS_NS, NOTIFICATION) == [own.model_dump(mode="json")]


async def test_an_event_jetstream_delivers_twice_reaches_the_agenda_once(
    live_server: LiveServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    desk = await connect(live_server, [AGENDA_NS], doctor.user.token, AGENDA_EVENTS)
    bus = live_server.realtime.engines.bus

    def created(appointment_id: str) -> Envelope:
        return Envelope(
            type=APPOINTMENT_CREATED,
            subject=f"appointment:{appointment_id}",
            data={"appointment_id": appointment_id, "doctor_id": str(doctor.id)},
            occurred_at=clock.now(),
        )

    # Appointments long gone by delivery time: the agenda still hears of them (patient null).
    first, sentinel = created(str(uuid.uuid4())), created(str(uuid.uuid4()))
    # As after a NATS crash: the same envelope stored and delivered twice (no Nats-Msg-Id, so
    # JetStream's dedup does not drop the copy), then a later event.
    for envelope in (first, first, sentinel):
        await bus.js.publish(bus.subject(envelope.type), envelope.model_dump_json().encode())

    got = lambda: desk.got(AGENDA_NS, "appointment.created")  # noqa: E731
    last = sentinel.data["appointment_id"]
    await desk.until(lambda: any(e["appointment_id"] == last for e in got()))
    assert [e["event_id"] for e in got()] == [str(first.id), str(sentinel.id)]


def test_recent_event_ids_remember_a_bounded_number_of_ids() -> None:
    recent = RecentIds(size=2)
    a, b, c = (
        Envelope(type=APPOINTMENT_CREATED, subject="s", data={}, occurred_at=clock.now()).id
        for _ in range(3)
    )
    assert recent.first_time(a) and recent.first_time(b)
    assert not recent.first_time(a)  # seen again: now the most recent
    assert recent.first_time(c)  # forgets b, the least recently seen
    assert not recent.first_time(a) and recent.first_time(b)
