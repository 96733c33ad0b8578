"""Payments: time from "pay" (card tokenised, POST /payments) to the appointment booked
(payment.completed through the outbox, NATS and the payments consumer), p50/p95, beside the
booking latency of the same node; and signed Stripe webhooks handled per second, beside plain
GET /healthz requests per second at the same concurrency.

Against localstripe (started here like Markini starts it, its webhook registered with the node).

Usage: .venv/bin/python bench/payments.py [--payments 100] [--webhooks 2000] [--clients 20]
(database and NATS: see bench/common.py)
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import signal
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/common.py

from bench.common import BenchEnv, bench_env, every_day, ms  # noqa: E402
from bus.embedded import free_port, wait_for_port  # noqa: E402
from server.payments.embedded import WEBHOOK_PATH, register_webhook, start_localstripe  # noqa: E402
from storage.processes import stop_child  # noqa: E402
from tests.server.payments.helpers import VISA, card_token, event_for, signed  # noqa: E402

POLL_S = 0.005


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _starts(zone: ZoneInfo, count: int) -> list[datetime]:
    day = datetime.now(zone).date() + timedelta(days=2)
    starts: list[datetime] = []
    while len(starts) < count:
        first = datetime(day.year, day.month, day.day, 8, tzinfo=zone)
        starts += [first + timedelta(minutes=15 * i) for i in range(48)]
        day += timedelta(days=1)
    return starts[:count]


async def _book(env: BenchEnv, doctor: Any, patient: Any, start: datetime) -> tuple[str, float]:
    began = time.perf_counter()
    response = await env.http.post(
        "/api/v1/appointments",
        json={"doctor_id": str(doctor.id), "start": start.isoformat(), "visit_type": "in-person"},
        headers=patient.user.headers,
    )
    response.raise_for_status()
    return str(response.json()["id"]), time.perf_counter() - began


async def _pay_until_booked(env: BenchEnv, api_base: str, patient: Any, appointment: str) -> float:
    began = time.perf_counter()
    token = await card_token(api_base, VISA)
    paid = await env.http.post(
        "/api/v1/payments",
        json={"appointment_id": appointment, "payment_method": token},
        headers=patient.user.headers,
    )
    paid.raise_for_status()
    while True:
        seen = await env.http.get(
            f"/api/v1/appointments/{appointment}", headers=patient.user.headers
        )
        if seen.json()["status"] == "scheduled":
            return time.perf_counter() - began
        await asyncio.sleep(POLL_S)


async def _rate(count: int, clients: int, send: Any) -> float:
    queue = list(range(count))

    async def worker() -> None:
        while queue:
            await send(queue.pop())

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return count / (time.perf_counter() - began)


async def run(payments: int, webhooks: int, clients: int) -> None:
    port = free_port()
    stripe = await start_localstripe(port)
    api_base = f"http://127.0.0.1:{port}"
    secret = f"whsec_{secrets.token_hex(16)}"
    try:
        await wait_for_port(port)
        async with bench_env(
            clients=max(clients, 50),
            payments_required="true",
            stripe_api_base=api_base,
            stripe_webhook_secret=secret,
        ) as env:
            await register_webhook(api_base, f"bench-{port}", env.node.url + WEBHOOK_PATH, secret)
            doctor = await env.doctor(consultation_fee=4000)
            (
                await env.http.put(
                    f"/api/v1/doctors/{doctor.id}/availability",
                    json=every_day("08:00", "20:00", 15),
                    headers=doctor.user.headers,
                )
            ).raise_for_status()
            patients = [await env.patient() for _ in range(payments)]
            booked = [
                await _book(env, doctor, p, s)
                for p, s in zip(
                    patients, _starts(ZoneInfo(doctor.time_zone), payments), strict=True
                )
            ]
            # One payment at a time: the latency a patient sees, not a queue's.
            pay_times = [
                await _pay_until_booked(env, api_base, p, a)
                for p, (a, _) in zip(patients, booked, strict=True)
            ]
            say(f"booking (anchor, POST /appointments):  {ms([t for _, t in booked])}")
            say(f"pay -> appointment booked:             {ms(pay_times)}")

            intents = [
                r["transaction_id"]
                for r in await env.db.fetch("SELECT transaction_id FROM payments.payments")
            ]

            async def webhook(i: int) -> None:
                intent = {"id": intents[i % len(intents)], "status": "succeeded", "amount": 4000,
                          "currency": "eur", "metadata": {}}  # fmt: skip
                body, headers = signed(
                    secret, event_for(f"evt_bench_{i}", "payment_intent.succeeded", intent)
                )
                (
                    await env.http.post(WEBHOOK_PATH, content=body, headers=headers)
                ).raise_for_status()

            async def health(_: int) -> None:
                (await env.http.get("/healthz")).raise_for_status()

            anchor = await _rate(webhooks, clients, health)
            handled = await _rate(webhooks, clients, webhook)
            say(f"GET /healthz (anchor):                 {anchor:.0f} requests/s")
            say(
                f"signed webhooks handled:               {handled:.0f} events/s "
                f"({handled / anchor:.2f} x anchor, {clients} clients)"
            )
    finally:
        await stop_child(stripe, signal.SIGTERM)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--payments", type=int, default=100)
    parser.add_argument("--webhooks", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(run(args.payments, args.webhooks, args.clients))


if __name__ == "__main__":
    main()
