"""The browser video consultation, run where Chromium's WebRTC works on loopback only.

Chromium leaves loopback out of its ICE candidates and offers every other interface, while
tests may reach loopback only (shared/TESTING-NETWORK.md). So this test runs the browser test
module `tests/e2e/consultation_in_netns.py` again inside a new network namespace that has
nothing but `lo` (`unshare --net`, root). The machine's PostgreSQL, NATS and Redis are out of
reach there: tests/conftest.py starts the embedded engines instead.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import NETNS_FLAG

ROOT = Path(__file__).resolve().parents[2]
INNER = Path(__file__).with_name("consultation_in_netns.py")
ON_CI = os.environ.get("CI") == "true"
# Server start on embedded engines, two browsers, a call: well under this on 2 cores.
TIMEOUT_S = 300
# `$0` is the Python to run; `lo` comes up before anything listens on it.
IN_NAMESPACE = 'ip link set lo up && exec "$0" -m pytest "$@"'
# The browser tests dealt into shards, each its own namespace (and engines), so that
# pytest-xdist workers share them out.
SHARDS = 2
_INNER_TESTS = sorted(
    node.name
    for node in ast.parse(INNER.read_text()).body
    if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef) and node.name.startswith("test_")
)


def _namespaces_work() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    probe = ["unshare", "--net", "sh", "-c", "ip link set lo up"]
    return subprocess.run(probe, capture_output=True).returncode == 0


@pytest.mark.parametrize("shard", range(SHARDS))
def test_patient_and_doctor_hold_a_video_consultation_in_two_browsers(
    shard: int, web_dist: Path
) -> None:
    if not _namespaces_work():
        reason = "needs `unshare --net` and `ip` (root, util-linux, iproute2)"
        if ON_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    # The namespace cannot reach the machine's engines: let conftest start embedded ones.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKINI_TEST_")}
    env[NETNS_FLAG] = "1"
    command = [
        "unshare",
        "--net",
        "sh",
        "-c",
        IN_NAMESPACE,
        sys.executable,
        *(f"{INNER.relative_to(ROOT)}::{name}" for name in _INNER_TESTS[shard::SHARDS]),
        "-q",
        "-p",
        "no:cacheprovider",
    ]
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT_S
    )
    output = f"{result.stdout[-12_000:]}\n{result.stderr[-4_000:]}"
    assert result.returncode == 0, f"the browser consultation test failed:\n{output}"
    assert " passed" in result.stdout and "skipped" not in result.stdout, output
