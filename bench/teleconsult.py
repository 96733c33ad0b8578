"""Teleconsultation call set-up: time from both parties joined to media flowing.

One `markini serve` node (subprocess) on a throw-away database; two aiortc peers per run
(signaling/peer.py: REST join, /consult call.join, admit, offer / answer / trickled ICE relayed
by the server, DTLS, SRTP) in this process, on loopback only (aioice host candidates pinned to
127.0.0.1, no STUN / TURN). For each of --runs consultations, t0 is when the doctor's call.join
is acknowledged with the patient already waiting, t1 when both peers have decoded their first
audio frame and the data channel is open. Prints median / p90 / min / max of t1 - t0, and
admit -> connected. Then the patient's network drops (its socket and peer connection vanish,
as in a crashed tab or a network change); "network back" is when its new device joins again
(REST join grant, call.join), and the figure is the time from then until both peers decode
audio frames of the new connection: reconnect -> media flowing, beside the first set-up
(joined -> media) of the same runs as its anchor.

Usage: /work/venv/bin/python bench/teleconsult.py [--runs 20] [--json PATH]
Engines: see bench/common.py (machine services on 127.0.0.1 by default).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/common.py

import aioice.ice  # noqa: E402
import asyncpg  # noqa: E402
import httpx  # noqa: E402

from bench.common import (  # noqa: E402
    add_json_arg,
    bench_database,
    figure,
    node_env,
    percentile,
    run_node,
    write_json,
)
from server.settings import Settings  # noqa: E402
from signaling.peer import CallPeer  # noqa: E402
from signaling.protocol import CALL_PEER_LEFT  # noqa: E402
from storage.pool import _init_connection  # noqa: E402
from tests.signaling.helpers import Consultation, consultation  # noqa: E402


def _loopback_only(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    return ["127.0.0.1"]  # loopback only (shared/TESTING-NETWORK.md)


async def one_call(url: str, c: Consultation) -> tuple[float, float, float]:
    patient = CallPeer(url, c.patient.user.token, c.session_id, wait_s=30)
    doctor = CallPeer(url, c.doctor.user.token, c.session_id, wait_s=30)
    back: CallPeer | None = None
    try:
        await patient.join()
        await doctor.join()
        t0 = time.perf_counter()
        await doctor.admit()
        t_admit = time.perf_counter()
        await asyncio.gather(doctor.until_channel_open(), patient.until_channel_open())
        await asyncio.gather(doctor.until_media("audio", 1), patient.until_media("audio", 1))
        t1 = time.perf_counter()
        # The drop: the doctor's side notices (call.peer_left) and closes its connection.
        await patient.drop()
        await doctor.until(lambda: len(doctor.got(CALL_PEER_LEFT)) == 1)
        heard = doctor.media.frames.get("audio", 0)
        back = CallPeer(url, c.patient.user.token, c.session_id, wait_s=30)
        t_back = time.perf_counter()  # network back: the page joins again by itself
        await back.join(rejoin=True)
        await asyncio.gather(
            back.until_media("audio", 1),
            doctor.until(lambda: doctor.media.frames.get("audio", 0) > heard),
        )
        return t1 - t0, t1 - t_admit, time.perf_counter() - t_back
    finally:
        await asyncio.gather(*(p.close() for p in (patient, doctor, back) if p is not None))


async def main(runs: int) -> list[Any]:
    """Rows for --json (no anchor measured yet)."""
    aioice.ice.get_host_addresses = _loopback_only  # type: ignore[assignment]
    tag = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory(prefix="markini-bench-tc-") as tmp:
        # Tokens signed like the node's: its secrets are generated in its data dir.
        settings = Settings(env="test", data_dir=Path(tmp))
        async with bench_database() as dsn:
            env = node_env(dsn, tag, Path(tmp), redis=False)
            async with run_node(env, Path(tmp) / "node.log") as node:
                db = await asyncpg.connect(dsn)
                await _init_connection(db)
                async with httpx.AsyncClient(base_url=node.url, timeout=30) as http:
                    calls = [await consultation(http, db, settings) for _ in range(runs)]
                await db.close()
                # The first call warms imports, codecs and connections; it is not counted.
                await one_call(node.url, calls[0])
                totals, after_admit, recovered = [], [], []
                for c in calls[1:]:
                    total, connected, again = await one_call(node.url, c)
                    totals.append(total)
                    after_admit.append(connected)
                    recovered.append(again)
    _report("both joined -> media flowing", totals)
    _report("admit -> media flowing", after_admit)
    _report("network back after a drop -> media flowing again", recovered)
    first = statistics.median(totals) * 1000
    return [
        figure(f"teleconsult {what}, p50", statistics.median(values) * 1000, None, "ms")
        for what, values in (("joined -> media", totals), ("admit -> media", after_admit))
    ] + [
        figure(
            "teleconsult network back after a drop -> media again, p50",
            statistics.median(recovered) * 1000,
            first,
            "ms",
            anchor_what="joined -> media (first set-up), p50, same runs",
        )
    ]


def _report(what: str, values: list[float]) -> None:
    ms = sorted(v * 1000 for v in values)
    p90 = percentile(ms, 0.9)
    sys.stdout.write(
        f"{what}: n={len(ms)} median={statistics.median(ms):.0f} ms p90={p90:.0f} ms "
        f"min={ms[0]:.0f} ms max={ms[-1]:.0f} ms\n"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="5 runs")
    add_json_arg(parser)
    args = parser.parse_args()
    runs = (5 if args.quick else args.runs) + 1  # plus one warm-up call
    write_json(args, asyncio.run(main(runs)))
