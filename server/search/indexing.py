"""Bring one doctor's index row (and the active backend) up to date; shared by the event
indexer, the passed-slot sweeper and `markini search reindex`."""

from __future__ import annotations

import uuid

import asyncpg

from server import clock
from server.search.availability import read_availability
from storage.search import index
from storage.search.base import SearchBackend


async def remove_doctor(
    con: asyncpg.Connection, backend: SearchBackend, doctor_id: uuid.UUID
) -> bool:
    removed = await index.delete_doctors(con, [doctor_id])
    await backend.sync(con, [doctor_id])
    return bool(removed)


async def refresh_profile(
    con: asyncpg.Connection, pool: asyncpg.Pool, backend: SearchBackend, doctor_id: uuid.UUID
) -> bool:
    """Re-read the doctor: index it when verified (with its availability), else drop it."""
    if not await index.upsert_profiles(con, [doctor_id], clock.now()):
        return await remove_doctor(con, backend, doctor_id)
    await _store_availability(con, pool, doctor_id)
    await backend.sync(con, [doctor_id])
    return True


async def refresh_availability(
    con: asyncpg.Connection,
    pool: asyncpg.Pool,
    backend: SearchBackend,
    doctor_id: uuid.UUID,
    event_version: int | None = None,
) -> bool:
    """Re-read the doctor's free slots unless the row already reflects `event_version`."""
    stored = await index.availability_version(con, doctor_id)
    if stored is None:  # not searchable: nothing to show
        return False
    if event_version is not None and 0 < event_version <= stored:
        return False  # e.g. slot.booked and appointment.created of one booking
    if not await _store_availability(con, pool, doctor_id):
        return False
    await backend.sync(con, [doctor_id])
    return True


async def _store_availability(
    con: asyncpg.Connection, pool: asyncpg.Pool, doctor_id: uuid.UUID
) -> bool:
    found = await read_availability(pool, doctor_id)
    return await index.set_availability(
        con,
        doctor_id,
        found.offers_in_person,
        found.offers_teleconsultation,
        found.next_in_person,
        found.next_teleconsultation,
        found.version,
        clock.now(),
    )
