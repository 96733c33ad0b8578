"""Chat across two nodes through a Redis outage: what the doctor's client sees once Redis returns.

Two in-process uvicorn nodes (as tests/realtime/conftest.py) on a throw-away database and a
redis-server of our own on a free loopback port; the patient on node A, the doctor on node B.
Redis is stopped for each outage, then started; from that instant the patient sends one message
every 0.5 s (refused ones are retried with the same client_message_id) until one arrived live
and three more were sent. Prints, per outage: the delay from Redis's return to the first live
delivery and to the `resync`, and the acknowledged messages lost (never seen by the doctor's
client, live or through `resync` + `history`) or delivered live twice.

Usage: .venv/bin/python bench/chat_redis_outage.py [--outages 10 40] [--upstream]
       [--with-anchor] [--json PATH]
(--upstream: python-socketio's own AsyncRedisManager, for comparison).

Measured on the 2-core dev box (shared, loaded), 0.5 s resolution:

    ResyncingRedisManager
    outage 10 s: first live delivery ≤1.0 s after Redis returned, resync ≤0.5 s; 5 acked, 0 lost, 0 doubled
    outage 40 s: first live delivery ≤1.1 s after Redis returned, resync ≤0.6 s; 5 acked, 0 lost, 0 doubled
    python-socketio AsyncRedisManager
    outage 10 s: first live delivery ≤5.6 s after Redis returned, resync never; 14 acked, 10 lost, 0 doubled
    outage 40 s: first live delivery ≤23.9 s after Redis returned, resync never; 49 acked, 45 lost, 0 doubled
"""  # noqa: E501

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/common.py

import asyncpg  # noqa: E402
import socketio  # noqa: E402

import realtime.hub  # noqa: E402
from bench.common import NATS_URL, add_json_arg, bench_database, figure, write_json  # noqa: E402
from realtime.protocol import CONSULT_NS, MESSAGE, RESYNC  # noqa: E402
from storage.pool import _init_connection  # noqa: E402
from tests.conftest import delete_stream, make_settings  # noqa: E402
from tests.factories import make_doctor, make_patient  # noqa: E402
from tests.realtime.conftest import serve  # noqa: E402
from tests.realtime.helpers import Probe  # noqa: E402
from tests.realtime.test_redis_outage import OwnRedis  # noqa: E402
from tests.server.scheduling.helpers import (  # noqa: E402
    availability,
    booked,
    local,
    put_availability,
)


async def probe(url: str, token: str) -> Probe:
    p = Probe(socketio.AsyncClient(reconnection=False))
    for event in (MESSAGE, RESYNC):
        p.record(CONSULT_NS, event)
    await p.client.connect(url, namespaces=[CONSULT_NS], auth={"token": token},
                           transports=["websocket"])  # fmt: skip
    return p


async def one_outage(redis: OwnRedis, patient: Probe, doctor: Probe, appointment: str,
                     outage_s: float) -> tuple[str, float | None]:  # fmt: skip
    """The report line, and the seconds from Redis's return to the first live delivery."""
    live_before = len(doctor.got(CONSULT_NS, MESSAGE))
    resync_before = len(doctor.got(CONSULT_NS, RESYNC))
    redis.stop()
    await asyncio.sleep(outage_s)
    await redis.start()
    back = time.monotonic()
    acked: set[str] = set()
    first_live = first_resync = None
    extra = 0
    n = 0
    while time.monotonic() - back < 90:
        n += 1
        body = f"{outage_s}-{n}"
        request = {"appointment_id": appointment, "body": body, "client_message_id": body}
        while not (await patient.call(CONSULT_NS, "message", request))["ok"]:
            await asyncio.sleep(0.1)
        acked.add(body)
        await asyncio.sleep(0.5)
        live = doctor.got(CONSULT_NS, MESSAGE)[live_before:]
        resyncs = doctor.got(CONSULT_NS, RESYNC)[resync_before:]
        if first_resync is None and resyncs:
            first_resync = time.monotonic() - back
        if first_live is None and live:
            first_live = time.monotonic() - back
        if first_live is not None:
            extra += 1
            if extra > 3:
                break
    await asyncio.sleep(2)  # a late resync still counts
    live = [m["body"] for m in doctor.got(CONSULT_NS, MESSAGE)[live_before:]]
    seen = set(live)
    if doctor.got(CONSULT_NS, RESYNC)[resync_before:]:
        page = await doctor.call(CONSULT_NS, "history", {"appointment_id": appointment,
                                                         "limit": 100})  # fmt: skip
        seen |= {m["body"] for m in page["data"]["messages"]}
    lost = len(acked - seen)
    doubled = len(live) - len(set(live))

    def s(x: float | None) -> str:
        return "never" if x is None else f"≤{x:.1f} s"

    return (
        f"outage {outage_s:.0f} s: first live delivery {s(first_live)} after Redis returned, "
        f"resync {s(first_resync)}; {len(acked)} acked, {lost} lost, {doubled} doubled"
    ), first_live


async def main(outages: list[float], upstream: bool) -> list[float | None]:
    """Seconds from Redis's return to the first live delivery, per outage."""
    if upstream:

        def manager(url: str, channel: str, _: Any) -> socketio.AsyncRedisManager:
            return socketio.AsyncRedisManager(url, channel=channel)

        realtime.hub.ResyncingRedisManager = manager  # type: ignore[assignment,misc]
    async with AsyncExitStack() as stack:
        dsn = await stack.enter_async_context(bench_database(migrated=True))
        redis = OwnRedis()
        await redis.start()
        stack.callback(redis.stop)
        work = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        settings = make_settings(dsn, NATS_URL, work, redis_url=redis.url)
        stack.push_async_callback(delete_stream, NATS_URL, settings.nats_stream)
        node_a = await stack.enter_async_context(serve(settings))
        node_b = await stack.enter_async_context(serve(settings))
        db = await asyncpg.connect(dsn)
        await _init_connection(db)
        stack.push_async_callback(db.close)
        doctor, patient = await make_doctor(db, settings), await make_patient(db, settings)
        await put_availability(node_a.http, doctor, availability(notice=0))
        appointment = (await booked(node_a.http, patient, doctor, local(doctor, 3, "10:00")))["id"]
        p = await probe(node_a.url, patient.user.token)
        d = await probe(node_b.url, doctor.user.token)
        for client in (p, d):
            stack.push_async_callback(client.client.disconnect)
            assert (await client.call(CONSULT_NS, "join", {"appointment_id": appointment}))["ok"]
        label = "python-socketio AsyncRedisManager" if upstream else "ResyncingRedisManager"
        sys.stdout.write(f"{label} (run {uuid.uuid4().hex[:6]})\n")
        firsts = []
        for outage in outages:
            line, first_live = await one_outage(redis, p, d, appointment, outage)
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
            firsts.append(first_live)
        return firsts


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--outages", type=float, nargs="+", default=[10, 40])
    parser.add_argument("--upstream", action="store_true")
    parser.add_argument(
        "--with-anchor", action="store_true", help="then the same with --upstream, for the table"
    )
    add_json_arg(parser)
    args = parser.parse_args()
    ours = asyncio.run(main(args.outages, args.upstream))
    theirs = asyncio.run(main(args.outages, True)) if args.with_anchor else [None] * len(ours)
    rows = [
        figure(
            f"chat after a {outage:.0f} s Redis outage: first live delivery",
            now,
            anchor,
            "s",
            anchor_what="python-socketio's AsyncRedisManager (--upstream), same run",
        )
        for outage, now, anchor in zip(args.outages, ours, theirs, strict=True)
    ]
    write_json(args, rows)
