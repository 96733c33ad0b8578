"""Video consultation in the browser: time from admission to the first remote video frame.

Two Chromium pages (patient on a phone viewport, doctor on a desktop one) with fake camera and
microphone go through the real pages: the patient enters the waiting room, the doctor enters the
room and admits. t0 is the click on "Let … in" (the page's own clock, read just before the
click); each side's time is when its `.video-remote video` first has a decoded frame
(`videoWidth > 0`, polled every 5 ms in the page). The anchor, measured in the same run and the
same browser, is a bare RTCPeerConnection pair on one page (fake camera, host candidates, no
signaling server): what the browser itself needs from "connect" to a first frame.

Chromium's WebRTC uses loopback only inside a network namespace that has nothing else
(shared/TESTING-NETWORK.md), where the machine's engines are out of reach: the script re-runs
itself under `unshare --net` (root) and starts the embedded PostgreSQL and NATS there.

Usage: .venv/bin/python bench/first_frame.py [--runs 8] [--timeline] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/common.py

import asyncpg  # noqa: E402
from playwright.async_api import Page, async_playwright, expect  # noqa: E402

from bench.common import add_json_arg, figure, write_json  # noqa: E402
from bus.embedded import embedded_nats  # noqa: E402
from storage.embedded import embedded_postgres  # noqa: E402
from storage.migrate import migrate  # noqa: E402
from tests.conftest import EngineUrls, _dsn_for  # noqa: E402
from tests.e2e.conftest import CHROMIUM, DESKTOP, PHONE, WEBRTC_ARGS, serve  # noqa: E402
from tests.e2e.demo import TELE_HOURS, Demo  # noqa: E402
from tests.e2e.helpers import sign_in  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
INSIDE = "MARKINI_BENCH_NETNS"
JOIN_EARLY_S = 24 * 3600
FRAME_TIMEOUT_MS = 30_000

# Resolves to Date.now() once the page's remote video has a decoded frame.
FIRST_REMOTE_FRAME = """() => {
  const v = document.querySelector('.video-remote video');
  return v && v.videoWidth > 0 ? Date.now() : false;
}"""

# A bare pair on one page: fake camera -> pc1 -> pc2 -> <video>; ms from offer to first frame.
ANCHOR = """async () => {
  const stream = await navigator.mediaDevices.getUserMedia({video: true, audio: true});
  const t0 = Date.now();
  const a = new RTCPeerConnection({iceServers: []}), b = new RTCPeerConnection({iceServers: []});
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
  const video = document.createElement('video');
  video.muted = true; video.autoplay = true; video.playsInline = true;
  document.body.append(video);
  b.ontrack = (e) => {
    if (e.track.kind === 'video') video.srcObject = new MediaStream([e.track]);
  };
  stream.getTracks().forEach((t) => a.addTrack(t, stream));
  await a.setLocalDescription(); await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(); await a.setRemoteDescription(b.localDescription);
  while (video.videoWidth === 0) await new Promise((r) => setTimeout(r, 5));
  const took = Date.now() - t0;
  a.close(); b.close(); stream.getTracks().forEach((t) => t.stop()); video.remove();
  return took;
}"""


# With --timeline: when each step of the call happened on a page (Date.now(), ms), to see where
# the time goes. Socket.IO frames are read off the WebSocket (`42/consult,N["call.offer",...`),
# the peer connection's steps off its own methods and events; each mark keeps its first time.
TIMELINE = """(() => {
  const marks = (window.__marks = {});
  const mark = (name) => { if (!(name in marks)) marks[name] = Date.now(); };
  const waiting = {};  // ack id -> event name
  const frame = /^4([23])[^,\\[]*,?(\\d*)\\[("([\\w.]+)")?/;
  const parse = (data) => typeof data === 'string' ? data.match(frame) : null;
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    const m = parse(data);
    if (m && m[4]) { mark('out ' + m[4]); if (m[2]) waiting[m[2]] = m[4]; }
    if (!this.__marked) {
      this.__marked = true;
      this.addEventListener('message', (e) => {
        const n = parse(e.data);
        if (n && n[1] === '2' && n[4]) mark('in ' + n[4]);
        if (n && n[1] === '3' && waiting[n[2]]) mark('ack ' + waiting[n[2]]);
      });
    }
    return send.call(this, data);
  };
  const Pc = window.RTCPeerConnection;
  window.RTCPeerConnection = function (...args) {
    const pc = new Pc(...args);
    mark('pc created');
    pc.addEventListener('icecandidate', (e) => e.candidate && mark('first local candidate'));
    pc.addEventListener('track', () => mark('remote track'));
    pc.addEventListener('connectionstatechange', () => mark('pc ' + pc.connectionState));
    pc.addEventListener('iceconnectionstatechange', () => mark('ice ' + pc.iceConnectionState));
    for (const method of ['setLocalDescription', 'setRemoteDescription']) {
      const original = pc[method].bind(pc);
      pc[method] = async (...a) => {
        mark(method + ' called');
        const result = await original(...a);
        mark(method + ' done');
        return result;
      };
    }
    return pc;
  };
  window.RTCPeerConnection.prototype = Pc.prototype;
})()"""


async def first_frame(page: Page) -> int:
    handle = await page.wait_for_function(FIRST_REMOTE_FRAME, polling=5, timeout=FRAME_TIMEOUT_MS)
    return int(await handle.json_value())


async def measure(runs: int, timeline: bool) -> list[Any]:
    """Rows for --json: each side's p50 beside the bare pair's."""
    async with AsyncExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="markini-bench-ff-"))
        admin = await stack.enter_async_context(embedded_postgres(tmp / "pg"))
        nats_url = await stack.enter_async_context(embedded_nats(tmp / "nats"))
        template = "mk_bench_ff_tpl"
        con = await asyncpg.connect(admin)
        await con.execute(f'CREATE DATABASE "{template}"')
        await con.close()
        await migrate(_dsn_for(admin, template))
        urls = EngineUrls(admin, nats_url, None)
        live = await stack.enter_async_context(
            serve(urls, template, tmp / "data", consult_join_early_s=JOIN_EARLY_S)
        )
        demo = await stack.enter_async_context(
            Demo.open(live.url, live.settings, live.database_url)
        )
        playwright = await stack.enter_async_context(async_playwright())
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=WEBRTC_ARGS)
        stack.push_async_callback(browser.close)

        doctor = await demo.doctor("Bench", hours=TELE_HOURS, time_zone="UTC")
        soon = datetime.now(UTC) + timedelta(seconds=JOIN_EARLY_S - 1800)
        slots = [
            s for s in await demo.slots(doctor, days=2) if datetime.fromisoformat(s["start"]) < soon
        ]
        patient_ms: list[int] = []
        doctor_ms: list[int] = []
        anchor_ms: list[int] = []
        steps: dict[str, dict[str, list[int]]] = {"doctor": {}, "patient": {}}
        for run in range(runs):
            patient = await demo.patient("Bench", f"Patient{run}")
            appointment = await demo.book(patient, doctor, slots[run])
            confirm = f"/api/v1/appointments/{appointment['id']}/confirm"
            await demo.http.post(confirm, headers=doctor.account.headers)
            anchor_ctx = await browser.new_context(base_url=live.url)
            doctor_ctx = await browser.new_context(base_url=live.url, viewport=DESKTOP)
            patient_ctx = await browser.new_context(
                base_url=live.url, viewport=PHONE, is_mobile=True, has_touch=True
            )
            if timeline:
                for context in (doctor_ctx, patient_ctx):
                    await context.add_init_script(TIMELINE)
            try:
                # The anchor in a context of its own, so the parties' cameras start cold.
                anchor_page = await anchor_ctx.new_page()
                await anchor_page.goto("/")  # a secure context (about:blank has no camera)
                anchor_ms.append(int(await anchor_page.evaluate(ANCHOR)))
                await anchor_page.close()
                doctor_page = await doctor_ctx.new_page()
                patient_page = await patient_ctx.new_page()
                await sign_in(patient_page, patient.account)
                await patient_page.goto(f"/consult/{appointment['id']}")
                await patient_page.get_by_role("button", name="Enter the waiting room").click()
                status = patient_page.locator(".call-status")
                await expect(status).to_contain_text("The doctor is not here yet")
                await sign_in(doctor_page, doctor.account)
                await doctor_page.goto(f"/consult/{appointment['id']}")
                await doctor_page.get_by_role("button", name="Open the consultation room").click()
                name = f"{patient.first_name} {patient.last_name}"
                admit = doctor_page.get_by_role("button", name=f"Let {name} in")
                await admit.wait_for()
                t0 = int(await doctor_page.evaluate("Date.now()"))
                await admit.click()
                doctor_at, patient_at = await asyncio.gather(
                    first_frame(doctor_page), first_frame(patient_page)
                )
                for role, page, at in (
                    ("doctor", doctor_page, doctor_at),
                    ("patient", patient_page, patient_at),
                ):
                    marks = await page.evaluate("window.__marks || {}") if timeline else {}
                    for name, when in {**marks, "first remote frame": at}.items():
                        if when >= t0:
                            steps[role].setdefault(name, []).append(when - t0)
                doctor_ms.append(doctor_at - t0)
                patient_ms.append(patient_at - t0)
                sys.stdout.write(
                    f"run {run + 1}: doctor {doctor_at - t0} ms, patient {patient_at - t0} ms, "
                    f"anchor {anchor_ms[-1]} ms\n"
                )
                sys.stdout.flush()
                await doctor_page.get_by_role("button", name="End the consultation").click()
            finally:
                for context in (anchor_ctx, doctor_ctx, patient_ctx):
                    await context.close()
        sys.stdout.write(
            f"time to first remote frame after admission, p50 over {runs} runs:\n"
            f"  doctor  {statistics.median(doctor_ms):.0f} ms (min {min(doctor_ms)}, "
            f"max {max(doctor_ms)})\n"
            f"  patient {statistics.median(patient_ms):.0f} ms (min {min(patient_ms)}, "
            f"max {max(patient_ms)})\n"
            f"  anchor (bare RTCPeerConnection pair, one page) "
            f"{statistics.median(anchor_ms):.0f} ms\n"
        )
        if timeline:
            for role, marks in steps.items():
                sys.stdout.write(f"{role}'s timeline after admission (p50 ms, runs that saw it):\n")
                for name, times in sorted(marks.items(), key=lambda m: statistics.median(m[1])):
                    median = statistics.median(times)
                    sys.stdout.write(f"  {median:6.0f}  {name} ({len(times)})\n")
        anchor = statistics.median(anchor_ms)
        what = "bare RTCPeerConnection pair on one page, same browser"
        return [
            figure(f"first remote frame, {side}, p50", statistics.median(ms), anchor, "ms",
                   anchor_what=what)
            for side, ms in (("doctor", doctor_ms), ("patient", patient_ms))
        ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument(
        "--timeline", action="store_true", help="also print when each step happened (p50)"
    )
    add_json_arg(parser)
    args = parser.parse_args()
    if os.environ.get(INSIDE) != "1":
        # Again inside a loopback-only network namespace; `lo` up before anything listens.
        script = 'ip link set lo up && exec "$0" "$@"'
        command = ["unshare", "--net", "sh", "-c", script, sys.executable, __file__]
        env = {**os.environ, INSIDE: "1"}
        env = {k: v for k, v in env.items() if not k.startswith("MARKINI_TEST_")}
        forwarded = ["--runs", str(args.runs), *(["--timeline"] if args.timeline else [])]
        if args.json is not None:
            forwarded += ["--json", str(args.json.resolve())]
        raise SystemExit(subprocess.run([*command, *forwarded], env=env, cwd=ROOT).returncode)
    write_json(args, asyncio.run(measure(args.runs, args.timeline)))


if __name__ == "__main__":
    main()
