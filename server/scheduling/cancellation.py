"""The cancellation policy's rules (issue #22): when a patient's cancellation is late (after
the visit reason's refund cut-off) and when it must give a reason."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from server import clock
from server.errors import InvalidInput
from server.scheduling.errors import CANCEL_REASON_REQUIRED, INVALID_CANCELLATION
from storage.cancellation import appointment_policy


def cutoff_at(policy: Mapping[str, Any]) -> datetime:
    """`policy`: a storage.cancellation.appointment_policy row."""
    start: datetime = policy["start_at"]
    return start - timedelta(hours=policy["refund_cutoff_hours"])


def is_late(policy: Mapping[str, Any], at: datetime) -> bool:
    return at > cutoff_at(policy)


def reason_required(policy: Mapping[str, Any], at: datetime) -> bool:
    required = policy["cancel_reason_required"]
    return required == "always" or (required == "late" and is_late(policy, at))


def says_something(text: str) -> bool:
    """Some visible character: spaces of any kind and invisible format or control characters
    (zero-width space, BOM, word joiner...) alone are no reason."""
    return any(not ch.isspace() and unicodedata.category(ch)[0] not in ("C", "Z") for ch in text)


async def require_cancel_reason(
    con: asyncpg.Connection, appointment_id: Any, status: str, reason: str | None
) -> None:
    """A patient cancels an appointment in `status` (by the API or by SMS): 422
    (`cancel-reason-required` at `reason`) when the policy asks why and no reason is given; a
    hold (never booked) needs none. Read only then: cancelling with a reason costs nothing more."""
    if status == "held" or (reason is not None and says_something(reason)):
        return
    policy = await appointment_policy(con, appointment_id)
    if policy is not None and reason_required(policy, clock.now()):
        raise InvalidInput(INVALID_CANCELLATION, [CANCEL_REASON_REQUIRED.at("reason")])
