"""How many idle Socket.IO connections one node holds, and its memory (RSS) as they pile up.

One `markini serve` subprocess (in-process client manager, no Redis); this process opens
anonymous /availability websockets in steps, answers the Engine.IO pings, and prints the
node's RSS at each step, then whether the node still answers HTTP with them all open.

Usage: /work/venv/bin/python bench/idle_sockets.py [--sockets 5000] [--step 1000]
Engines: see bench/common.py (machine services on 127.0.0.1 by default).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # see bench/common.py

import httpx  # noqa: E402

from bench.common import bench_database, node_env, run_node  # noqa: E402
from bench.rt_client import RawSocket, rss_mb  # noqa: E402

NS = "/availability"


def raise_fd_limit(needed: int) -> int:
    """Both this process and the node (which inherits it) need one descriptor per socket."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard == resource.RLIM_INFINITY else min(hard, max(soft, needed))
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return int(target)


async def main(args: argparse.Namespace) -> None:
    limit = raise_fd_limit(args.sockets + 1000)
    out = sys.stdout.write
    out(f"open-file limit: {limit}\n")
    async with AsyncExitStack() as stack:
        dsn = await stack.enter_async_context(bench_database())
        work = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        env = node_env(dsn, work.name[-8:].replace("_", "x"), work, redis=False)
        node = await stack.enter_async_context(run_node(env, work / "node.log"))
        await asyncio.sleep(2)  # let startup allocations settle
        baseline = rss_mb(node.process.pid)
        out(f"{0:>6} sockets  RSS {baseline:7.1f} MiB\n")
        sockets: list[RawSocket] = []
        began = time.perf_counter()
        while len(sockets) < args.sockets:
            target = min(args.sockets, len(sockets) + args.step)
            while len(sockets) < target:
                batch = min(200, target - len(sockets))
                sockets += await asyncio.gather(
                    *(RawSocket.open(node.url, NS) for _ in range(batch))
                )
            await asyncio.sleep(1)
            rss = rss_mb(node.process.pid)
            per_socket_kib = (rss - baseline) * 1024 / len(sockets)
            out(
                f"{len(sockets):>6} sockets  RSS {rss:7.1f} MiB  (+{per_socket_kib:.1f} KiB each)\n"
            )
        opened_s = time.perf_counter() - began
        async with httpx.AsyncClient(base_url=node.url, timeout=30) as http:
            started = time.perf_counter()
            ready = (await http.get("/readyz")).status_code
            answer_ms = (time.perf_counter() - started) * 1000
        alive = sum(1 for s in sockets if s.ws.state.name == "OPEN")
        out(f"opened {len(sockets)} in {opened_s:.1f} s; still open: {alive}; ")
        out(f"/readyz {ready} in {answer_ms:.0f} ms with them all connected\n")
        await asyncio.gather(*(s.close() for s in sockets), return_exceptions=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=5000)
    parser.add_argument("--step", type=int, default=1000)
    asyncio.run(main(parser.parse_args()))
