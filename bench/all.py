"""Every bench, each beside its anchor, in one run: the issue's table and its JSON.

Runs each bench/*.py as a child process, one after the other, with `--json <tmp file>`
(bench/common.py: add_json_arg / figure / write_json) and reads its rows back; a bench whose
--help has no --json yet is still run, and its table line says so (its output is in the log).
Prints `what | now | anchor | ratio / target` and writes the table, each bench's command, exit
status, duration and the machine's load average (at the start, the end, and after each bench)
as JSON. The machine is shared: the benches run one at a time and the load is in the output.

Usage: .venv/bin/python bench/all.py [--quick] [--only idle_sockets,realtime_fanout]
       [--skip search] [--json bench-results.json] [--logs DIR]
--quick: smaller sizes (each bench's --quick where it has one, else smaller arguments).
Engines: see bench/common.py (machine services on 127.0.0.1 by default).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


@dataclass(frozen=True)
class Bench:
    name: str
    full: tuple[str, ...] = ()  # arguments of the full run (the sizes)
    quick: tuple[str, ...] = ()  # with --quick, when the bench has no --quick of its own


BENCHES = (
    Bench("booking", quick=("--bookings", "200")),
    Bench("consumers", quick=("--bookings", "200")),
    Bench("slots", quick=("--requests", "100")),
    Bench("search", quick=("--doctors", "10000", "--iterations", "50")),
    Bench("audit_append", quick=("--entries", "1000")),
    Bench("login"),
    Bench("idle_sockets", full=("--sockets", "5000", "--step", "1000")),
    Bench("realtime_fanout", full=("--sockets", "1000,5000")),
    Bench("chat_redis_outage", full=("--with-anchor",), quick=("--outages", "5")),
    Bench("teleconsult"),
    Bench("web_slot_latency"),
    Bench("first_frame", quick=("--runs", "3")),
)


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def options_of(script: Path) -> str:
    """The bench's --help text (to see whether it has --json and --quick)."""
    done = subprocess.run(
        [sys.executable, str(script), "--help"], cwd=ROOT, capture_output=True, text=True
    )
    return done.stdout


def run_one(bench: Bench, quick: bool, logs: Path) -> dict[str, Any]:
    script = BENCH / f"{bench.name}.py"
    help_text = options_of(script)
    argv = [sys.executable, str(script)]
    if quick:
        argv += ["--quick"] if "--quick" in help_text else list(bench.quick)
    else:
        argv += bench.full
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "figures.json"
        has_json = "--json" in help_text
        if has_json:
            argv += ["--json", str(target)]
        log = logs / f"{bench.name}.log"
        sys.stdout.write(f"== {bench.name}: {' '.join(argv[1:])}  (load {load()[0]})\n")
        sys.stdout.flush()
        started = time.monotonic()
        with log.open("w") as out:
            status = subprocess.run(argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT).returncode
        elapsed = time.monotonic() - started
        figures = json.loads(target.read_text()) if has_json and target.exists() else None
    sys.stdout.write(f"   exit {status} in {elapsed:.0f} s, log {log}\n")
    return {
        "bench": bench.name,
        "command": argv[1:],
        "exit_status": status,
        "seconds": round(elapsed, 1),
        "loadavg_after": load(),
        "has_json": has_json,
        "rows": figures["rows"] if figures else [],
        "figures": figures,
        "log": str(log),
    }


def number(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    text = f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"
    return f"{text} {unit}"


def table(results: list[dict[str, Any]]) -> str:
    lines = ["| what | now | anchor | ratio / target |", "| --- | --- | --- | --- |"]
    for result in results:
        if result["exit_status"] != 0 or not result["rows"]:
            why = f"exit {result['exit_status']}" if result["exit_status"] else "no --json yet"
            lines.append(f"| {result['bench']} | {why}, see {result['log']} | | |")
            continue
        for row in result["rows"]:
            ratio = f"{row['ratio']:.2f}x" if row.get("ratio") is not None else "-"
            target = f" (target {row['target']})" if row.get("target") else ""
            anchor = number(row.get("anchor"), row["unit"])
            if row.get("anchor_what"):
                anchor += f": {row['anchor_what']}"
            lines.append(
                f"| {row['what']} | {number(row['now'], row['unit'])} | {anchor} "
                f"| {ratio}{target} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    names = [b.name for b in BENCHES]
    split = lambda text: [n for n in text.split(",") if n]  # noqa: E731
    parser.add_argument("--only", type=split, default=names, help="comma-separated bench names")
    parser.add_argument("--skip", type=split, default=[], help="comma-separated bench names")
    parser.add_argument("--json", type=Path, default=ROOT / "bench-results.json", metavar="PATH")
    parser.add_argument("--logs", type=Path, help="where each bench's output goes (default tmp)")
    args = parser.parse_args()
    unknown = set(args.only) - set(names) | set(args.skip) - set(names)
    if unknown:
        parser.error(f"unknown bench(es): {', '.join(sorted(unknown))}; known: {', '.join(names)}")
    logs = args.logs or Path(tempfile.mkdtemp(prefix="markini-bench-all-"))
    logs.mkdir(parents=True, exist_ok=True)
    load_start = load()
    started = time.time()
    sys.stdout.write(f"load average at start {load_start} ({os.cpu_count()} CPUs)\n")
    results = [
        run_one(bench, args.quick, logs)
        for bench in BENCHES
        if bench.name in args.only and bench.name not in args.skip
    ]
    load_end = load()
    text = table(results)
    sys.stdout.write("\n" + text)
    sys.stdout.write(f"load average at start {load_start}, at end {load_end}\n")
    document = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "quick": args.quick,
        "cpus": os.cpu_count(),
        "loadavg_start": load_start,
        "loadavg_end": load_end,
        "table": text,
        "benches": results,
    }
    args.json.write_text(json.dumps(document, indent=2, default=str) + "\n")
    sys.stdout.write(f"written to {args.json}\n")
    if any(r["exit_status"] for r in results):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
