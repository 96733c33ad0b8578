"""/consult chat between an appointment's two parties: delivery, history, receipts, refusals."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import pytest
import socketio

from realtime.protocol import (
    CHAT_RATE_LIMIT,
    CONSULT_NS,
    LEFT,
    MAX_MESSAGE_CHARS,
    MESSAGE,
    READ,
)
from server.settings import Settings
from tests.factories import Doctor, Patient, make_doctor, make_patient, make_user
from tests.realtime.conftest import ConnectProbe, LiveServer
from tests.realtime.helpers import Probe
from tests.server.patients.test_relatives import URL as RELATIVES
from tests.server.patients.test_relatives import add, link
from tests.server.scheduling.helpers import availability, booked, local, put_availability

pytestmark = pytest.mark.engines

CHAT_EVENTS = [(CONSULT_NS, MESSAGE), (CONSULT_NS, READ)]


async def _appointment(
    server: LiveServer, db: asyncpg.Connection, settings: Settings
) -> tuple[Doctor, Patient, str]:
    doctor = await make_doctor(db, settings)
    patient = await make_patient(db, settings)
    await put_availability(server.http, doctor, availability(notice=0))
    appointment = await booked(server.http, patient, doctor, local(doctor, 2, "10:00"))
    return doctor, patient, str(appointment["id"])


async def _join(probe: Probe, appointment_id: str) -> dict[str, Any]:
    ack = await probe.call(CONSULT_NS, "join", {"appointment_id": appointment_id})
    assert ack["ok"], ack
    return dict(ack["data"])


async def _say(probe: Probe, appointment_id: str, body: str, **extra: Any) -> dict[str, Any]:
    ack = await probe.call(
        CONSULT_NS, "message", {"appointment_id": appointment_id, "body": body, **extra}
    )
    return dict(ack)


async def test_the_two_parties_chat_with_history_and_read_receipts(
    live_server: LiveServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, patient, appointment_id = await _appointment(live_server, db, settings)
    phone = await connect(live_server, [CONSULT_NS], patient.user.token, CHAT_EVENTS)
    laptop = await connect(live_server, [CONSULT_NS], patient.user.token, CHAT_EVENTS)
    desk = await connect(live_server, [CONSULT_NS], doctor.user.token, CHAT_EVENTS)
    first = await _join(phone, appointment_id)
    assert first == {"appointment_id": appointment_id, "messages": [], "next_before": None}
    await _join(laptop, appointment_id)
    await _join(desk, appointment_id)

    sent = await _say(phone, appointment_id, "Bonjour docteur", client_message_id="m-1")
    assert sent["ok"] and sent["data"]["body"] == "Bonjour docteur"
    resent = await _say(phone, appointment_id, "Bonjour docteur", client_message_id="m-1")
    assert resent["data"]["id"] == sent["data"]["id"], "a resend is not a second message"
    reply = await _say(desk, appointment_id, "Bonjour, je vous écoute")

    await phone.until(lambda: len(phone.got(CONSULT_NS, MESSAGE)) == 1)
    await laptop.until(lambda: len(laptop.got(CONSULT_NS, MESSAGE)) == 2)
    # Each other device got each message once; the sending device none of its own.
    assert [m["id"] for m in desk.got(CONSULT_NS, MESSAGE)] == [sent["data"]["id"]]
    assert [m["id"] for m in phone.got(CONSULT_NS, MESSAGE)] == [reply["data"]["id"]]
    assert [m["body"] for m in laptop.got(CONSULT_NS, MESSAGE)] == [
        "Bonjour docteur",
        "Bonjour, je vous écoute",
    ]

    receipt = await desk.call(CONSULT_NS, "read", {"message_id": sent["data"]["id"]})
    assert receipt["ok"] and receipt["data"]["reader_user_id"] == str(doctor.user.id)
    again = await desk.call(CONSULT_NS, "read", {"message_id": sent["data"]["id"]})
    assert again["data"]["read_at"] == receipt["data"]["read_at"]
    own = await phone.call(CONSULT_NS, "read", {"message_id": sent["data"]["id"]})
    assert own["ok"] is False and own["error"]["code"] == "not_found"
    await phone.until(lambda: len(phone.got(CONSULT_NS, READ)) == 1)
    assert phone.got(CONSULT_NS, READ)[0]["message_id"] == sent["data"]["id"]

    for i in range(3):
        assert (await _say(phone, appointment_id, f"note {i}"))["ok"]
    history = await _join(desk, appointment_id)  # joining again returns the latest page
    assert [m["body"] for m in history["messages"]][:2] == [
        "Bonjour docteur",
        "Bonjour, je vous écoute",
    ]
    assert history["messages"][0]["read_at"] == receipt["data"]["read_at"]
    page = await desk.call(CONSULT_NS, "history", {"appointment_id": appointment_id, "limit": 2})
    assert [m["body"] for m in page["data"]["messages"]] == ["note 1", "note 2"]
    older = await desk.call(
        CONSULT_NS,
        "history",
        {"appointment_id": appointment_id, "limit": 2, "before": page["data"]["next_before"]},
    )
    assert [m["body"] for m in older["data"]["messages"]] == ["Bonjour, je vous écoute", "note 0"]
    stored = await db.fetch("SELECT body::text AS body FROM chat.messages")
    assert len(stored) == 5 and not any("Bonjour" in r["body"] for r in stored), "encrypted"
    # Once per device: after all that, still one copy of each message per other device.
    assert len(desk.got(CONSULT_NS, MESSAGE)) == 4


async def test_a_third_user_cannot_join_and_the_refusal_is_audited(
    live_server: LiveServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    _, _, appointment_id = await _appointment(live_server, db, settings)
    stranger = await make_patient(db, settings)
    probe = await connect(live_server, [CONSULT_NS], stranger.user.token, CHAT_EVENTS)

    refused = await probe.call(CONSULT_NS, "join", {"appointment_id": appointment_id})
    unknown = await probe.call(CONSULT_NS, "join", {"appointment_id": str(uuid.uuid4())})
    blind = await _say(probe, appointment_id, "hello?")

    assert refused["ok"] is False and refused["error"]["code"] == "not_found"
    assert unknown["error"]["code"] == "not_found"
    assert blind["error"]["code"] == "not_joined"
    rows = await db.fetch(
        """SELECT user_id, resource_id, response_status FROM audit.logs
           WHERE action = 'consultation_chat.join_refused' ORDER BY append_id"""
    )
    assert [(r["user_id"], r["response_status"]) for r in rows] == [
        (stranger.user.id, 403),
        (stranger.user.id, 404),
    ]
    assert rows[0]["resource_id"] == appointment_id


async def test_consult_refuses_anonymous_sockets(
    live_server: LiveServer, connect: ConnectProbe
) -> None:
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect(live_server, [CONSULT_NS])


async def test_oversized_empty_and_too_fast_messages_get_error_acks(
    live_server: LiveServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    _, patient, appointment_id = await _appointment(live_server, db, settings)
    probe = await connect(live_server, [CONSULT_NS], patient.user.token)
    await _join(probe, appointment_id)

    too_long = await _say(probe, appointment_id, "x" * (MAX_MESSAGE_CHARS + 1))
    empty = await _say(probe, appointment_id, "   ")
    just_fits = await _say(probe, appointment_id, "y" * MAX_MESSAGE_CHARS)
    limit = int(CHAT_RATE_LIMIT.split("/")[0])
    burst = await asyncio.gather(*(_say(probe, appointment_id, f"m{i}") for i in range(limit + 5)))

    assert too_long["error"]["code"] == "message_too_long"
    assert empty["error"]["code"] == "invalid_payload"
    assert just_fits["ok"]
    codes = [a["error"]["code"] if not a["ok"] else "ok" for a in burst]
    assert codes.count("ok") == limit - 1 and codes.count("rate_limited") == 6
    history = await probe.call(CONSULT_NS, "history", {"appointment_id": appointment_id})
    assert history["ok"] and len(history["data"]["messages"]) == limit


async def test_a_proxy_removed_after_joining_the_chat_hears_and_says_nothing_more(
    live_server: LiveServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    """Both parents joined the chat of Léa's consultation; the mother then stops managing Léa
    (the father still does): from then on she gets no message, reads no history, sends none."""
    doctor = await make_doctor(db, settings)
    mother, father = await make_patient(db, settings), await make_patient(db, settings)
    await put_availability(live_server.http, doctor, availability(notice=0))
    lea = await add(live_server.http, mother)
    await link(db, father, lea["id"])
    visit = await booked(
        live_server.http, mother, doctor, local(doctor, 2, "10:00"), patient_id=lea["id"]
    )
    appointment_id = str(visit["id"])
    hers = await connect(live_server, [CONSULT_NS], mother.user.token, CHAT_EVENTS)
    his = await connect(live_server, [CONSULT_NS], father.user.token, CHAT_EVENTS)
    await _join(hers, appointment_id)
    await _join(his, appointment_id)

    removed = await live_server.http.delete(f"{RELATIVES}/{lea['id']}", headers=mother.user.headers)
    assert removed.status_code == 204, removed.text
    assert (await _say(his, appointment_id, "Léa a de la fièvre"))["ok"]
    page = await hers.call(CONSULT_NS, "history", {"appointment_id": appointment_id})
    said = await _say(hers, appointment_id, "Je suis encore là")
    await asyncio.sleep(0.5)  # time for a message to reach her socket, were it sent
    received = [m["body"] for m in hers.got(CONSULT_NS, MESSAGE)]
    assert (received, page["ok"], said["ok"]) == ([], False, False)


async def _lea_in_chat(
    server: LiveServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> tuple[dict[str, Any], str, dict[str, tuple[Patient, Probe]]]:
    """Léa's visit; her mother (who booked) and father both in its chat."""
    doctor = await make_doctor(db, settings)
    mother, father = await make_patient(db, settings), await make_patient(db, settings)
    await put_availability(server.http, doctor, availability(notice=0))
    lea = await add(server.http, mother)
    await link(db, father, lea["id"])
    visit = await booked(
        server.http, mother, doctor, local(doctor, 2, "10:00"), patient_id=lea["id"]
    )
    appointment_id = str(visit["id"])
    parents = {}
    for name, parent in (("mother", mother), ("father", father)):
        probe = await connect(server, [CONSULT_NS], parent.user.token, [*CHAT_EVENTS, LEFT_EVENT])
        await _join(probe, appointment_id)
        parents[name] = (parent, probe)
    return lea, appointment_id, parents


LEFT_EVENT = (CONSULT_NS, LEFT)


@pytest.mark.parametrize("path", ["admin erases the child", "the mother erases her account"])
async def test_every_erasure_that_ends_a_proxys_link_takes_it_out_of_the_chat(
    live_server: LiveServer,
    connect: ConnectProbe,
    db: asyncpg.Connection,
    settings: Settings,
    path: str,
) -> None:
    lea, appointment_id, parents = await _lea_in_chat(live_server, connect, db, settings)
    (mother, hers), (_, his) = parents["mother"], parents["father"]
    if path == "admin erases the child":
        admin = await make_user(db, settings, "admin")
        who, url, gone = admin, f"/api/v1/patients/{lea['id']}", [hers, his]
    else:
        who, url, gone = mother.user, f"/api/v1/patients/{mother.id}", [hers]
    erased = await live_server.http.delete(url, headers=who.headers)
    assert erased.status_code == 204, erased.text

    news = {"appointment_id": appointment_id, "reason": "access_revoked"}
    for probe in gone:
        await probe.until(lambda p=probe: bool(p.got(*LEFT_EVENT)))  # type: ignore[misc]
        assert probe.got(*LEFT_EVENT) == [news]
    if his not in gone:  # the father still manages Léa: still in the chat
        assert his.got(*LEFT_EVENT) == []
        page = await his.call(CONSULT_NS, "history", {"appointment_id": appointment_id})
        assert page["ok"], page


async def test_a_link_revoked_before_the_node_hears_of_it_already_stops_the_chat(
    live_server: LiveServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    """Defence in depth: `history` and `message` check again who acts for the patient, so a
    proxy still in the room (its node not told yet) reads and says nothing, and leaves it."""
    lea, appointment_id, parents = await _lea_in_chat(live_server, connect, db, settings)
    (mother, hers), (_, his) = parents["mother"], parents["father"]
    await db.execute(  # no event: the revocation as seen before it reaches any node
        "UPDATE patients.relatives SET revoked_at = now() WHERE proxy_user_id = $1",
        mother.user.id,
    )
    page = await hers.call(CONSULT_NS, "history", {"appointment_id": appointment_id})
    assert page["error"]["code"] == "not_joined"
    assert (await _say(his, appointment_id, "Léa dort"))["ok"]  # she left the room: not to her
    said = await _say(hers, appointment_id, "Je suis encore là")
    assert said["error"]["code"] == "not_joined"
    await asyncio.sleep(0.5)  # time for a message to reach her socket, were it sent
    assert hers.got(CONSULT_NS, MESSAGE) == []
