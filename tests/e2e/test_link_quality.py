"""The automatic weak-link switch (docs/realtime.md, "Audio only and link quality"), in
Chromium: web/src/pages/consult/quality.ts as the browser runs it, fed getStats-like reports.

The web app has no unit test runner: the module is transpiled by the build's own Rolldown
(type stripping only) and loaded into a blank page; each step feeds one getStats report through
sampleOf -> rate -> nextPause, as CallState.sample does every 2 s.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser

ROOT = Path(__file__).resolve().parents[2]
QUALITY = ROOT / "web" / "src" / "pages" / "consult" / "quality.ts"
TRANSPILE = (
    "import('rolldown/experimental').then(({transformSync}) => {"
    " const fs = require('fs');"
    " const out = transformSync('quality.ts', fs.readFileSync(process.argv[1], 'utf8'));"
    " if (out.errors && out.errors.length) { console.error(out.errors); process.exit(1); }"
    " process.stdout.write(out.code); })"
)
# A blank page runs the module as a classic script: its exports become page globals.
FEED = """(steps) => {
  let counted = { lost: 0, received: 0 };
  let state = { paused: steps.start ?? null, recent: [] };
  const seen = [];
  for (const step of steps.reports) {
    const measured = sampleOf(step, counted);
    if (measured === null) { seen.push([null, state.paused]); continue; }
    counted = measured.counted;
    const quality = rate(measured.sample);
    state = nextPause(state, quality);
    seen.push([quality, state.paused]);
  }
  return seen;
}"""


def _report(*, rtt: float, lost: int, received: int, bitrate: float | None = 2e6) -> list[Any]:
    """One getStats snapshot: the nominated pair and one inbound stream (cumulative counters)."""
    pair: dict[str, Any] = {
        "type": "candidate-pair",
        "nominated": True,
        "state": "succeeded",
        "currentRoundTripTime": rtt,
    }
    if bitrate is not None:
        pair["availableOutgoingBitrate"] = bitrate
    return [pair, {"type": "inbound-rtp", "packetsLost": lost, "packetsReceived": received}]


class Feed:
    """Cumulative counters as a browser reports them, one snapshot per call."""

    def __init__(self) -> None:
        self.lost = 0
        self.received = 0

    def __call__(
        self, *, loss: float = 0.0, rtt: float = 0.05, bitrate: float | None = 2e6
    ) -> list[Any]:
        self.received += round(1000 * (1 - loss))
        self.lost += round(1000 * loss)
        return _report(rtt=rtt, lost=self.lost, received=self.received, bitrate=bitrate)


def _node() -> tuple[str, dict[str, str]]:
    """The node the web build uses (PATH's when recent enough, else the wheel's), and its env."""
    spec = importlib.util.spec_from_file_location("build_web", ROOT / "tools" / "build_web.py")
    assert spec is not None and spec.loader is not None
    build_web = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_web)
    _, env = build_web.node_environment()
    node = shutil.which("node", path=env["PATH"])
    assert node is not None, "tools/build_web.py found no node"
    return node, env


@pytest.fixture(scope="module")
def quality_js(web_dist: Path) -> str:
    node, env = _node()
    done = subprocess.run(
        [node, "-e", TRANSPILE, str(QUALITY)],
        cwd=ROOT / "web",
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.replace("export function", "function").replace("export const", "const")


async def _run(browser: Browser, code: str, steps: dict[str, Any]) -> list[list[Any]]:
    context = await browser.new_context()
    try:
        page = await context.new_page()
        await page.set_content("<!doctype html><title>quality</title>")
        await page.add_script_tag(content=code)
        result: list[list[Any]] = await page.evaluate(FEED, steps)
        return result
    finally:
        await context.close()


async def test_two_poor_samples_pause_video_and_three_good_resume_it(
    browser: Browser, quality_js: str
) -> None:
    feed = Feed()
    reports = [
        feed(),  # good
        feed(loss=0.2),  # poor (20 % of this sample's packets lost): one is not enough
        feed(),  # good: the streak breaks
        feed(loss=0.15),  # poor
        feed(rtt=0.9),  # poor (round trip): two in a row, pause
        feed(),  # good
        feed(loss=0.05),  # fair: the good streak breaks, still paused
        feed(),  # good
        feed(bitrate=None),  # good (no bitrate said)
        feed(),  # good: three in a row, resume
        feed(bitrate=100_000),  # poor (too little bitrate): one is not enough
        feed(),  # good
    ]
    seen = await _run(browser, quality_js, {"reports": reports})
    assert seen == [
        ["good", None],
        ["poor", None],
        ["good", None],
        ["poor", None],
        ["poor", "weak_link"],
        ["good", "weak_link"],
        ["fair", "weak_link"],
        ["good", "weak_link"],
        ["good", "weak_link"],
        ["good", None],
        ["poor", None],
        ["good", None],
    ]


async def test_a_pause_by_hand_is_never_lifted_and_no_pair_is_no_sample(
    browser: Browser, quality_js: str
) -> None:
    feed = Feed()
    no_pair = [{"type": "inbound-rtp", "packetsLost": 0, "packetsReceived": 10}]
    reports = [no_pair, feed(loss=0.5), feed(loss=0.5), feed(), feed(), feed(), feed()]
    seen = await _run(browser, quality_js, {"reports": reports, "start": "manual"})
    assert seen == [[None, "manual"]] + [["poor", "manual"]] * 2 + [["good", "manual"]] * 4
    assert json.dumps(seen)  # plain data back from the page
