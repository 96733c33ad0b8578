"""The practice's waitlist and cancellation settings (offer hold time, prepayment above a
no-show threshold) and the cancellation policy as patients see it: before booking (a visit
reason's policy) and at cancelling (late or not, what is refunded, whether a reason is asked)."""

from __future__ import annotations

import uuid

from server import clock
from server.audit.service import record_change
from server.auth.principal import Principal
from server.engines import Engines
from server.errors import (
    NO_SUCH_APPOINTMENT,
    NO_SUCH_DOCTOR,
    UNKNOWN_VISIT_REASON,
    InvalidInput,
    NotFound,
)
from server.payments.refunds import policy_refund
from server.scheduling.access import require_party, resolve_caller
from server.scheduling.cancellation import cutoff_at, is_late, reason_required
from server.scheduling.errors import UNKNOWN_REASON
from server.waitlist.schemas import (
    CancellationPolicy,
    CancellationQuote,
    PracticeSettings,
    PracticeSettingsOut,
)
from storage import waitlist as store
from storage.cancellation import appointment_policy, reason_policy
from storage.payments import paid_payment
from storage.scheduling.appointments import fetch_appointment
from storage.scheduling.parties import fetch_doctor


async def _own_practice(engines: Engines, principal: Principal, doctor_id: uuid.UUID) -> None:
    """The doctor themself or an admin; 404 for anyone else (the practice stays unnamed)."""
    caller = await resolve_caller(engines.pool, principal)
    if not principal.is_admin and caller.doctor_id != doctor_id:
        raise NotFound(NO_SUCH_DOCTOR)
    if await fetch_doctor(engines.pool, doctor_id) is None:
        raise NotFound(NO_SUCH_DOCTOR)


async def read_settings(
    engines: Engines, principal: Principal, doctor_id: uuid.UUID
) -> PracticeSettingsOut:
    await _own_practice(engines, principal, doctor_id)
    async with engines.pool.acquire() as con:
        row = await store.practice_settings(con, doctor_id)
    return PracticeSettingsOut(doctor_id=doctor_id, **dict(row))


async def save_settings(
    engines: Engines, principal: Principal, doctor_id: uuid.UUID, body: PracticeSettings
) -> PracticeSettingsOut:
    """Offers already open keep their end; the new hold time applies to the next ones."""
    await _own_practice(engines, principal, doctor_id)
    async with engines.pool.acquire() as con, con.transaction():
        await store.save_practice_settings(
            con, doctor_id, body.offer_minutes, body.prepay_no_show_threshold
        )
        await record_change(con, resource_id=doctor_id)
    return PracticeSettingsOut(doctor_id=doctor_id, **body.model_dump())


async def cancellation_policy(
    engines: Engines,
    principal: Principal | None,
    doctor_id: uuid.UUID,
    reason_id: uuid.UUID | None,
) -> CancellationPolicy:
    """Public for a verified doctor; `prepay_required` speaks of the caller when a patient."""
    async with engines.pool.acquire() as con:
        doctor = await fetch_doctor(con, doctor_id)
        if doctor is None or doctor["verification_status"] != "verified":
            raise NotFound(NO_SUCH_DOCTOR)
        policy = await reason_policy(con, doctor_id, reason_id)
        if reason_id is not None and not policy["reason_found"]:
            # Not the defaults under another doctor's (or no) reason's id: a 422, as booking.
            raise InvalidInput(UNKNOWN_REASON, [UNKNOWN_VISIT_REASON.at("reason_id", "query")])
        prepay = False
        if principal is not None and principal.role == "patient":
            caller = await resolve_caller(con, principal)
            if caller.patient_id is not None:
                prepay = await store.prepay_required(con, doctor_id, caller.patient_id)
    return CancellationPolicy(
        doctor_id=doctor_id,
        reason_id=reason_id,
        refund_cutoff_hours=policy["refund_cutoff_hours"],
        late_refund_percent=policy["late_refund_percent"],
        reason_required=policy["cancel_reason_required"],
        online_cancel_cutoff_hours=engines.settings.patient_cancel_cutoff_h,
        pay_at_visit=policy["pay_at_visit"],
        prepay_required=prepay,
    )


async def cancellation_quote(
    engines: Engines, principal: Principal, appointment_id: uuid.UUID
) -> CancellationQuote:
    """For the appointment's patient (or its doctor, or an admin): what cancelling now means
    for the patient. 404 for anyone else."""
    now = clock.now()
    async with engines.pool.acquire() as con:
        caller = await resolve_caller(con, principal)
        require_party(caller, await fetch_appointment(con, appointment_id))
        policy = await appointment_policy(con, appointment_id)
        if policy is None:
            raise NotFound(NO_SUCH_APPOINTMENT)
        payment = await paid_payment(con, appointment_id)
    paid = refund = 0
    if payment is not None:
        paid = int(payment["amount"])
        refund = policy_refund(payment, "patient", now, policy["start_at"])
    return CancellationQuote(
        appointment_id=appointment_id,
        late=is_late(policy, now),
        reason_required=reason_required(policy, now),
        refund_cutoff_at=cutoff_at(policy),
        refund_cutoff_hours=policy["refund_cutoff_hours"],
        late_refund_percent=policy["late_refund_percent"],
        paid=paid,
        refund=refund,
        currency=policy["currency"],
    )
