"""Who may see a payment, and the gateway a request needs (409 when payments are off)."""

from __future__ import annotations

import uuid

import asyncpg

from server.auth.principal import Principal
from server.engines import Engines
from server.errors import NotFound
from server.payments.errors import NO_SUCH_PAYMENT, PAYMENTS_DISABLED, PaymentsOff
from server.payments.gateway import Gateway
from server.scheduling.access import Caller, resolve_caller
from storage import payments as store


def gateway_of(engines: Engines) -> Gateway:
    if engines.payments is None:
        raise PaymentsOff(PAYMENTS_DISABLED)
    return engines.payments


def can_see(caller: Caller, row: asyncpg.Record) -> bool:
    return (
        caller.principal.is_admin
        or (caller.patient_id is not None and caller.patient_id == row["patient_id"])
        or (caller.doctor_id is not None and caller.doctor_id == row["doctor_id"])
    )


async def visible_payment(
    con: asyncpg.Connection, principal: Principal, payment_id: uuid.UUID
) -> tuple[Caller, asyncpg.Record]:
    """The payment if the caller is its patient, its doctor or an admin; 404 otherwise."""
    caller = await resolve_caller(con, principal)
    row = await store.fetch_payment(con, payment_id)
    if row is None or not can_see(caller, row):
        raise NotFound(NO_SUCH_PAYMENT)
    return caller, row
