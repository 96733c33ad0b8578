"""Set-up shared by the waitlist tests: joining, and waiting for an offer to arrive."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from server import clock
from tests.factories import Doctor, Patient

WAITLIST = "/api/v1/waitlist"


async def join(
    client: httpx.AsyncClient, patient: Patient, doctor: Doctor, **extra: Any
) -> dict[str, Any]:
    now = clock.now()
    body = {
        "doctor_id": str(doctor.id),
        "visit_type": "in-person",
        "earliest": now.isoformat(),
        "latest": (now + timedelta(days=14)).isoformat(),
        **extra,
    }
    response = await client.post(WAITLIST, json=body, headers=patient.user.headers)
    assert response.status_code == 201, response.text
    entry: dict[str, Any] = response.json()
    return entry


async def entries(client: httpx.AsyncClient, patient: Patient) -> list[dict[str, Any]]:
    response = await client.get(WAITLIST, headers=patient.user.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def offer_for(client: httpx.AsyncClient, patient: Patient) -> dict[str, Any]:
    """The patient's open offer, once the waitlist consumer has made it (polls for 20 s)."""
    for _ in range(400):
        for entry in await entries(client, patient):
            if entry["offer"] is not None:
                offer: dict[str, Any] = entry["offer"]
                return offer
        await asyncio.sleep(0.05)
    raise AssertionError("no offer arrived")


async def settle(client: httpx.AsyncClient, db: Any) -> None:
    """Wait until the outbox is relayed and the waitlist consumer handled every slot.released."""
    for _ in range(400):
        pending = await db.fetchval(
            """SELECT count(*) FROM bus.outbox o WHERE o.type = 'slot.released'
               AND NOT EXISTS (SELECT 1 FROM bus.handled_events h
                               WHERE h.consumer = 'waitlist' AND h.event_id = o.id)"""
        )
        if pending == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the waitlist consumer did not catch up")


def morning_zone(now: datetime) -> str:
    """An IANA zone where `now` is about 08:00 (Etc/GMT-N is UTC+N): a doctor there has most of
    their day still ahead, whatever the hour the tests run at."""
    offset = (8 - now.astimezone(UTC).hour + 12) % 24 - 12  # -12 .. +11 hours from UTC
    return "Etc/UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"
