"""How much memory an idle Socket.IO connection costs a node, beside the bare stack.

One server at a time, each on its own: the anchors (python-socketio on a bare uvicorn, no
compression, bench/bare_socketio.py: `websockets` and `websockets-sansio` protocols), optional
candidates (other servers, or Markini's lean Engine.IO socket on the bare stack), then one
`markini serve` node (in-process client manager, no Redis). This process opens anonymous
/availability websockets with the same lean client (bench/rt_client.py) in steps, answers the
Engine.IO pings, and prints the server's RSS (with its children) at each step: the figure is
(RSS with N sockets - RSS before) / N. Then whether the server still answers HTTP with them all.

Usage: .venv/bin/python bench/idle_sockets.py [--sockets 5000] [--step 1000] [--quick]
       [--candidates uvicorn-lean+lean,uvicorn-wsproto,granian,hypercorn] [--json PATH]
A candidate is a bench/bare_socketio.py --server name, "+lean" for BARE_ENGINEIO=lean.
Engines: see bench/common.py (machine services on 127.0.0.1 by default).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/common.py

import httpx  # noqa: E402

from bench.common import (  # noqa: E402
    Node,
    add_json_arg,
    bench_database,
    figure,
    node_env,
    run_node,
    run_server,
    write_json,
)
from bench.rt_client import RawSocket, rss_mb  # noqa: E402

NS = "/availability"
ANCHORS = ("uvicorn-websockets", "uvicorn-sansio")
TARGET_KIB = 20.0


@dataclass
class Footprint:
    stack: str
    sockets: int
    kib_each: float
    baseline_mib: float
    opened_s: float
    alive: int
    readyz_status: int
    readyz_ms: float


def raise_fd_limit(needed: int) -> int:
    """Both this process and the server (which inherits it) need one descriptor per socket."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard == resource.RLIM_INFINITY else min(hard, max(soft, needed))
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return int(target)


async def measure(
    stack: str, server: AbstractAsyncContextManager[Node], sockets: int, step: int
) -> Footprint:
    out = sys.stdout.write
    out(f"-- {stack}\n")
    async with server as node:
        await asyncio.sleep(2)  # let startup allocations settle
        baseline = rss_mb(node.process.pid)
        out(f"{0:>6} sockets  RSS {baseline:7.1f} MiB\n")
        opened: list[RawSocket] = []
        began = time.perf_counter()
        kib_each = 0.0
        while len(opened) < sockets:
            target = min(sockets, len(opened) + step)
            while len(opened) < target:
                batch = min(200, target - len(opened))
                opened += await asyncio.gather(
                    *(RawSocket.open(node.url, NS) for _ in range(batch))
                )
            await asyncio.sleep(1)
            rss = rss_mb(node.process.pid)
            kib_each = (rss - baseline) * 1024 / len(opened)
            out(f"{len(opened):>6} sockets  RSS {rss:7.1f} MiB  (+{kib_each:.1f} KiB each)\n")
        opened_s = time.perf_counter() - began
        async with httpx.AsyncClient(base_url=node.url, timeout=30) as http:
            started = time.perf_counter()
            status = (await http.get("/readyz")).status_code
            answer_ms = (time.perf_counter() - started) * 1000
        alive = sum(1 for s in opened if s.ws.state.name == "OPEN")
        out(f"opened {len(opened)} in {opened_s:.1f} s; still open: {alive}; ")
        out(f"/readyz {status} in {answer_ms:.0f} ms with them all connected\n")
        await asyncio.gather(*(s.close() for s in opened), return_exceptions=True)
    return Footprint(stack, sockets, kib_each, baseline, opened_s, alive, status, answer_ms)


def bare(candidate: str, work: Path) -> AbstractAsyncContextManager[Node]:
    server, _, lean = candidate.partition("+")
    env = {**os.environ, "BARE_ENGINEIO": lean}
    env.pop("MARKINI_REDIS_URL", None)  # one node: in-process manager, as Markini's here
    argv = ["-m", "bench.bare_socketio", "--port", "{port}", "--server", server]
    return run_server(argv, env, work / f"{candidate}.log")


async def main(args: argparse.Namespace) -> None:
    limit = raise_fd_limit(args.sockets + 1000)
    out = sys.stdout.write
    load_start = os.getloadavg()
    out(f"open-file limit: {limit}; load average at start {load_start[0]:.2f}\n")
    results: list[Footprint] = []
    async with AsyncExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        for candidate in (*ANCHORS, *args.candidates):
            results.append(
                await measure(f"bare {candidate}", bare(candidate, work), args.sockets, args.step)
            )
        dsn = await stack.enter_async_context(bench_database())
        env = node_env(dsn, work.name[-8:].replace("_", "x"), work, redis=False, db_pool_max="4")
        markini = await measure(
            "markini", run_node(env, work / "node.log"), args.sockets, args.step
        )
    load_end = os.getloadavg()
    out(f"\n{'stack':<34} {'KiB/socket':>10}  {'vs sansio':>9}\n")
    sansio = results[1].kib_each
    for result in (*results, markini):
        out(f"{result.stack:<34} {result.kib_each:>10.1f}  {result.kib_each / sansio:>8.2f}x\n")
    out(f"target <= {TARGET_KIB:.0f} KiB: {'met' if markini.kib_each <= TARGET_KIB else 'NOT met'}")
    out(f"; load average at end {load_end[0]:.2f}\n")
    rows = [
        figure(
            f"idle sockets, one node, {args.sockets:,}, vs bare {anchor.stack[5:]}",
            markini.kib_each,
            anchor.kib_each,
            "KiB/socket",
            anchor_what=f"bare {anchor.stack[5:]} + python-socketio, same client, no compression",
            target=f"<= {TARGET_KIB:.0f} KiB",
        )
        for anchor in results[: len(ANCHORS)]
    ]
    write_json(
        args,
        rows,
        stacks=[vars(r) for r in (*results, markini)],
        loadavg_start=list(load_start),
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=5000)
    parser.add_argument("--step", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="1,000 sockets in one step")
    parser.add_argument(
        "--candidates",
        type=lambda text: [c for c in text.split(",") if c],
        default=[],
        help="comma-separated bench/bare_socketio.py servers to measure too (name[+lean])",
    )
    add_json_arg(parser)
    parsed = parser.parse_args()
    if parsed.quick:
        parsed.sockets, parsed.step = 1000, 1000
    asyncio.run(main(parsed))
