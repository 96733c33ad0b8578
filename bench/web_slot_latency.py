"""Live slots in the browser: time from the booking's REST response in one Playwright context
to the slot vanishing from the live week grid in another (same doctor page, never reloaded).

Both instants are read inside the pages on the same clock (`performance.timeOrigin` + a
page-relative time): the booker's `POST /api/v1/appointments` response end (Resource Timing)
and the watcher's MutationObserver seeing that slot's button removed. The path measured is the
whole product path: commit -> outbox -> NATS -> the node's consumer -> Socket.IO -> the grid.
A negative figure means the watcher saw the slot go before the booker had its answer.

Usage: /work/venv/bin/python bench/web_slot_latency.py [--runs 20]
Engines: see bench/common.py (database and NATS). Builds web/ first when it is stale.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import Page, async_playwright, expect

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/common.py

from bench.common import (  # noqa: E402
    ADMIN_DSN,
    NATS_URL,
    add_json_arg,
    bench_database,
    figure,
    percentile,
    write_json,
)
from server.settings import Settings  # noqa: E402
from tests.conftest import EngineUrls  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, serve  # noqa: E402
from tests.e2e.demo import Demo  # noqa: E402
from tests.e2e.helpers import _monday, show_week_of, sign_in, slot_button  # noqa: E402
from tools.build_web import build  # noqa: E402

# Tests poll the outbox faster than production does; the bench keeps the production default.
PRODUCTION_TIMING = {
    "outbox_poll_interval_s": Settings.model_fields["outbox_poll_interval_s"].default
}
# Slots starting this soon are skipped: the week grid may hide the current half hour.
LEAD = timedelta(hours=1)

VANISHED = """(start) => new Promise((resolve) => {
  const selector = `button.slot[data-start="${start}"]`;
  const observer = new MutationObserver(() => {
    if (document.querySelector(selector)) return;
    observer.disconnect();
    resolve(performance.timeOrigin + performance.now());
  });
  observer.observe(document.body, {childList: true, subtree: true});
})"""
BOOKED_AT = """() => {
  const posts = performance.getEntriesByType("resource")
    .filter((e) => new URL(e.name).pathname === "/api/v1/appointments");
  return performance.timeOrigin + posts[posts.length - 1].responseEnd;
}"""


def _name_of(dsn: str) -> str:
    """The database a DSN names (the e2e `serve` clones a template given by name)."""
    return urlsplit(dsn).path.lstrip("/")


def one_week_of_slots(slots: list[dict[str, Any]], runs: int) -> list[dict[str, Any]]:
    """`runs` slots shown together in one week of the grid (the earliest week that has them)."""
    floor = datetime.now(UTC) + LEAD
    weeks: dict[datetime, list[dict[str, Any]]] = defaultdict(list)
    for slot in slots:
        start = datetime.fromisoformat(slot["start"])
        if start > floor:
            weeks[_monday(start)].append(slot)
    for week in sorted(weeks):
        if len(weeks[week]) >= runs:
            return weeks[week][:runs]
    raise SystemExit(f"no week with {runs} free slots")


async def book_once(watcher: Page, booker: Page, doctor_id: str, slot: dict[str, Any]) -> float:
    """Milliseconds from the booker's REST response to the slot leaving the watcher's grid."""
    await booker.goto(f"/doctors/{doctor_id}")
    await show_week_of(booker, slot["start"])
    await slot_button(booker, slot["start"]).click()
    await expect(booker.get_by_role("heading", name="Confirm your appointment")).to_be_visible()
    start_attr = await slot_button(watcher, slot["start"]).get_attribute("data-start")
    vanished = asyncio.ensure_future(watcher.evaluate(VANISHED, start_attr))
    await booker.get_by_role("button", name="Confirm the appointment").click()
    await expect(booker.get_by_role("heading", name="Your appointment is booked")).to_be_visible()
    booked_at = float(await booker.evaluate(BOOKED_AT))
    return float(await asyncio.wait_for(vanished, 30)) - booked_at


async def main(runs: int) -> list[Any]:
    """Rows for --json (no anchor: the whole product path, nothing bare to hold it to)."""
    build()
    engines = EngineUrls(ADMIN_DSN, NATS_URL, None)
    with tempfile.TemporaryDirectory(prefix="markini-bench-") as data_dir:
        async with (
            bench_database(migrated=True) as template_dsn,
            serve(engines, _name_of(template_dsn), Path(data_dir), **PRODUCTION_TIMING) as live,
            Demo.open(live.url, live.settings, live.database_url) as demo,
            async_playwright() as playwright,
        ):
            doctor = await demo.doctor("Bench")
            patient = await demo.patient("Bench", "Booker")
            slots = one_week_of_slots(await demo.slots(doctor, days=14), runs)
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            contexts = [
                await browser.new_context(base_url=live.url, viewport=DESKTOP) for _ in range(2)
            ]
            watcher, booker = [await c.new_page() for c in contexts]
            await watcher.goto(f"/doctors/{doctor.id}")
            await show_week_of(watcher, slots[0]["start"])
            await expect(watcher.get_by_text("Live: slots update")).to_be_visible()
            await sign_in(booker, patient.account)
            figures = [await book_once(watcher, booker, doctor.id, slot) for slot in slots]
            await browser.close()
    figures.sort()
    sys.stdout.write(
        f"booking REST response -> slot gone in the other browser, {runs} runs: "
        f"median {statistics.median(figures):.1f} ms, p95 "
        f"{percentile(figures, 0.95):.1f} ms, "
        f"min {figures[0]:.1f} ms, max {figures[-1]:.1f} ms\n"
    )
    what = "booking response -> slot gone in another browser"
    return [
        figure(f"{what}, p50", statistics.median(figures), None, "ms"),
        figure(f"{what}, p95", percentile(figures, 0.95), None, "ms"),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="5 runs")
    add_json_arg(parser)
    args = parser.parse_args()
    write_json(args, asyncio.run(main(5 if args.quick else args.runs)))
