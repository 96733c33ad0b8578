"""The demo seed gives every doctor an agenda and demo patients appointments, once."""

from __future__ import annotations

import time
from contextlib import AsyncExitStack

import asyncpg

from server import clock
from server.engines import open_engines
from server.scheduling.demo import seed_schedules
from server.seed import seed_demo
from server.settings import Settings


async def test_demo_agendas_are_seeded_once_and_respect_the_constraints(
    settings: Settings, db: asyncpg.Connection
) -> None:
    async with AsyncExitStack() as stack:
        engines = await open_engines(settings, stack)
        started = time.perf_counter()
        await seed_demo(engines)
        elapsed = time.perf_counter() - started
        first = await db.fetchrow(
            """SELECT (SELECT count(*) FROM scheduling.weekly_rules) AS rules,
                      (SELECT count(*) FROM scheduling.appointments) AS appointments,
                      (SELECT count(*) FROM bus.outbox) AS events"""
        )
        await seed_schedules(engines)
        again = await db.fetchrow(
            """SELECT (SELECT count(*) FROM scheduling.weekly_rules) AS rules,
                      (SELECT count(*) FROM scheduling.appointments) AS appointments,
                      (SELECT count(*) FROM bus.outbox) AS events"""
        )
    assert first is not None and first == again
    without_rules = await db.fetchval(
        """SELECT count(*) FROM doctors.doctors d WHERE NOT EXISTS
           (SELECT 1 FROM scheduling.weekly_rules r WHERE r.doctor_id = d.id)"""
    )
    assert without_rules == 0
    statuses = dict(
        await db.fetch("SELECT status, count(*) FROM scheduling.appointments GROUP BY status")
    )
    assert statuses["completed"] > 50 and statuses["scheduled"] + statuses["confirmed"] > 50
    demo = await db.fetchrow(
        """SELECT count(*) FILTER (WHERE a.status = 'completed') AS past,
                  count(*) FILTER (WHERE lower(a.period) > $1) AS upcoming
           FROM scheduling.appointments a
           JOIN patients.patients p ON p.id = a.patient_id
           JOIN auth.users u ON u.id = p.user_id
           WHERE u.email = 'patient@markini.test'""",
        clock.now(),
    )
    assert demo is not None and demo["past"] >= 2 and demo["upcoming"] >= 2
    assert elapsed < 120  # a sanity bound, not a benchmark: seeding must stay a quick step
