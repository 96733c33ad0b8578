"""Demo data for `markini seed` and `markini serve --demo`; every step is idempotent."""

from __future__ import annotations

import logging

from server.engines import Engines

log = logging.getLogger(__name__)


async def seed_demo(engines: Engines) -> None:
    # Each domain contributes one step, in dependency order.
    steps: list = []
    for step in steps:
        await step(engines)
    log.info("demo data ready")
