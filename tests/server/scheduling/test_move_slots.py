"""Where an appointment can move: the slot list that ignores the appointment being moved, and
moves that keep the appointment's own length and reason (issue #15, kinds 2 and 3)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import httpx

from server.settings import Settings
from tests.factories import make_doctor, make_patient, make_user
from tests.server.scheduling.helpers import (
    availability,
    booked,
    counts,
    doctor_with_availability,
    every_day,
    local,
    put_availability,
    slot_starts,
    slots,
)

URL = "/api/v1/appointments"


def _reason(name: str, minutes: int) -> dict[str, Any]:
    return {"name": name, "duration_minutes": minutes, "visit_types": ["in-person"]}


def _hours(starts: list[datetime]) -> list[str]:
    return [s.strftime("%H:%M") for s in starts]


async def test_the_move_list_offers_the_times_only_the_moved_appointment_occupies(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    for buffer, public in ((0, ["09:00", "11:00"]), (10, [])):
        body = availability(every_day("09:00", "12:00"), buffer=buffer)
        body["reasons"] = [_reason("Long", 60)]
        doctor = await make_doctor(db, settings)
        reason_id = (await put_availability(client, doctor, body))["reasons"][0]["id"]
        patient = await make_patient(db, settings)
        appointment = await booked(
            client, patient, doctor, local(doctor, 3, "10:00"), reason_id=reason_id
        )
        window = (local(doctor, 3, "08:00"), local(doctor, 3, "13:00"))

        assert _hours(await slot_starts(client, doctor, *window, reason=reason_id)) == public
        for who in (patient.user, doctor.user):
            mine = await slots(
                client,
                doctor,
                *window,
                excluding_appointment_id=appointment["id"],
                headers=who.headers,
            )
            assert mine.status_code == 200, mine.text
            starts = [s["start"][11:16] for s in mine.json()["slots"]]
            assert starts == ["09:00", "09:30", "10:00", "10:30", "11:00"], buffer

        moved = await client.post(
            f"{URL}/{appointment['id']}/reschedule",
            json={"start": local(doctor, 3, "10:30").isoformat()},
            headers=patient.user.headers,
        )
        assert moved.status_code == 200, moved.text
        assert datetime.fromisoformat(moved.json()["end"]) == local(doctor, 3, "11:30")


async def test_only_the_appointments_parties_may_exclude_it_and_nothing_leaks(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    other_doctor = await doctor_with_availability(client, db, settings)
    patient, stranger = await make_patient(db, settings), await make_patient(db, settings)
    appointment = await booked(client, patient, doctor, local(doctor, 3, "10:00"))
    window = (local(doctor, 3, "08:00"), local(doctor, 3, "13:00"))
    admin = await make_user(db, settings, "admin")
    before = await counts(db)

    async def status(who: Any, of_doctor: Any = doctor, excluded: Any = appointment["id"]) -> int:
        headers = who.headers if who else {}
        response = await slots(
            client, of_doctor, *window, excluding_appointment_id=excluded, headers=headers
        )
        if response.status_code != 200:
            assert response.headers["content-type"] == "application/problem+json"
            assert "10:00" not in response.text
        return response.status_code

    assert await status(None) == 401
    assert await status(stranger.user) == 404
    assert await status(other_doctor.user) == 404
    assert await status(patient.user, other_doctor) == 404
    assert await status(patient.user, excluded="00000000-0000-0000-0000-000000000000") == 404
    assert await status(admin) == 200
    assert await counts(db) == before


async def test_a_retired_reason_keeps_its_duration_and_name_through_moves(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    body = availability(every_day("08:00", "20:00"))
    body["reasons"] = [_reason("Bilan", 50)]
    doctor = await make_doctor(db, settings)
    reason_id = (await put_availability(client, doctor, body))["reasons"][0]["id"]
    patient, other = await make_patient(db, settings), await make_patient(db, settings)
    appointment = await booked(
        client, patient, doctor, local(doctor, 3, "10:00"), reason_id=reason_id
    )
    assert datetime.fromisoformat(appointment["end"]) == local(doctor, 3, "10:50")
    await booked(client, other, doctor, local(doctor, 3, "11:00"))
    await put_availability(client, doctor, availability(every_day("08:00", "20:00")))  # no reasons
    url = f"{URL}/{appointment['id']}/reschedule"

    clash = await client.post(
        url, json={"start": local(doctor, 3, "10:30").isoformat()}, headers=patient.user.headers
    )
    assert clash.status_code == 409, clash.text
    assert clash.json()["type"] == "/problems/slot-taken"
    alternatives = clash.json()["alternatives"]
    assert alternatives and all(
        (datetime.fromisoformat(a["end"]) - datetime.fromisoformat(a["start"])).seconds == 50 * 60
        for a in alternatives
    )

    moved = await client.post(
        url, json={"start": local(doctor, 3, "09:00").isoformat()}, headers=patient.user.headers
    )
    assert moved.status_code == 200, moved.text
    result = moved.json()
    assert datetime.fromisoformat(result["end"]) == local(doctor, 3, "09:50")
    assert (result["reason_id"], result["reason_name"]) == (reason_id, "Bilan")

    # The move list speaks the same language: 50-minute slots, 10:00 free again, 10:30 not.
    mine = await slots(
        client,
        doctor,
        local(doctor, 3, "08:00"),
        local(doctor, 3, "12:00"),
        excluding_appointment_id=appointment["id"],
        headers=patient.user.headers,
    )
    starts = [s["start"][11:16] for s in mine.json()["slots"]]
    assert "10:00" in starts and "10:30" not in starts and "09:00" in starts
    assert all(s["end"][11:16] == "08:50" for s in mine.json()["slots"][:1])
