"""Time from a cancellation to the first waitlist offer delivered, with 1,000 patients waiting
for the doctor, through a real uvicorn server: the cancel request, the offer made in the
cancelling transaction (the first waiting patient it suits, fair order), the outbox relay, NATS,
the node's fan-out and the `notification` on the offered patient's /notifications socket.

With `--area N` (default 1,000), N more patients wait for any doctor of the specialty elsewhere
(half by city, half within a radius of Lyon): entries the matching query must pass over.

Anchor, same run: the cancel request's own round trip (request sent → HTTP answer), which the
offer's delivery includes.

Usage: .venv/bin/python bench/waitlist.py [--waiting 1000] [--area 1000] [--rounds 60]
[--json PATH]
(database and NATS: see bench/common.py)
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/common.py

from bench.common import (  # noqa: E402
    add_json_arg,
    bench_env,
    every_day,
    figure,
    latency_figures,
    ms,
    write_json,
)
from bench.rt_client import RawSocket  # noqa: E402


async def bench(waiting: int, area: int, rounds: int, args: argparse.Namespace) -> None:
    async with bench_env(clients=50) as env:
        doctor = await env.doctor()
        answer = await env.http.put(
            f"/api/v1/doctors/{doctor.id}/availability",
            json=every_day("00:00", "23:45", 15),
            headers=doctor.user.headers,
        )
        assert answer.status_code == 200, answer.text
        now = datetime.now(UTC)
        window = {
            "doctor_id": str(doctor.id),
            "visit_type": "in-person",
            "earliest": now.isoformat(),
            "latest": (now + timedelta(days=60)).isoformat(),
        }
        waiters = []
        for _ in range(waiting):
            patient = await env.patient()
            joined = await env.http.post(
                "/api/v1/waitlist", json=window, headers=patient.user.headers
            )
            assert joined.status_code == 201, joined.text
            waiters.append(patient)
        elsewhere = {**window, "doctor_id": None, "specialty": "general-practice"}
        for i in range(area):
            place = (
                {"city": "Lyon"}
                if i % 2
                else {"near": {"latitude": 45.76, "longitude": 4.84, "radius_km": 20}}
            )
            patient = await env.patient()
            joined = await env.http.post(
                "/api/v1/waitlist", json={**elsewhere, **place}, headers=patient.user.headers
            )
            assert joined.status_code == 201, joined.text
        canceller = await env.patient()
        slots = await env.http.get(
            "/api/v1/appointments/slots/available",
            params={
                "doctor_id": str(doctor.id),
                "from": (now + timedelta(days=2)).isoformat(),
                "to": (now + timedelta(days=9)).isoformat(),
            },
        )
        starts = [s["start"] for s in slots.json()["slots"]][:rounds]

        # The first `rounds` waiters (join order) get the offers, one each: sockets for them.
        arrived: dict[str, float] = {}

        def on_event(name: str, data: Any, at: float) -> None:
            if name == "notification" and data["kind"] == "waitlist.offered":
                arrived[data["data"]["start"]] = at

        sockets = [
            await RawSocket.open(env.node.url, "/notifications", w.user.token, on_event)
            for w in waiters[:rounds]
        ]
        delivered: list[float] = []
        cancel_rtt: list[float] = []
        try:
            for start in starts:
                booked = await env.http.post(
                    "/api/v1/appointments",
                    json={"doctor_id": str(doctor.id), "start": start, "visit_type": "in-person"},
                    headers=canceller.user.headers,
                )
                assert booked.status_code == 201, booked.text
                sent = time.time()
                cancelled = await env.http.post(
                    f"/api/v1/appointments/{booked.json()['id']}/cancel",
                    json={},
                    headers=canceller.user.headers,
                )
                cancel_rtt.append(time.time() - sent)
                assert cancelled.status_code == 200, cancelled.text
                key = datetime.fromisoformat(start).astimezone(UTC).isoformat()
                for _ in range(2000):
                    if key in arrived:
                        break
                    await asyncio.sleep(0.001)
                else:
                    raise AssertionError(f"no offer delivered for {start}")
                delivered.append(arrived[key] - sent)
        finally:
            for sock in sockets:
                await sock.close()

    sys.stdout.write(
        f"waiting patients: {waiting} (+{area} elsewhere), rounds: {len(delivered)}\n"
        f"cancellation → offer delivered on the socket: {ms(delivered)}\n"
        f"anchor, the cancel request's round trip:      {ms(cancel_rtt)}\n"
    )
    p50 = latency_figures(delivered)["p50_ms"]
    anchor = latency_figures(cancel_rtt)["p50_ms"]
    write_json(
        args,
        [
            figure(
                "cancellation to first offer delivered, p50",
                p50,
                anchor,
                "ms",
                anchor_what="cancel request round trip, p50",
            )
        ],
        delivered=latency_figures(delivered),
        cancel=latency_figures(cancel_rtt),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waiting", type=int, default=1000)
    parser.add_argument("--area", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=60)
    add_json_arg(parser)
    args = parser.parse_args()
    asyncio.run(bench(args.waiting, args.area, args.rounds, args))


if __name__ == "__main__":
    main()
