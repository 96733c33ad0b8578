"""Reviews: one per completed appointment, and the doctor's average kept exact under concurrency.

Posting locks the doctor row first, so concurrent reviews of one doctor queue up and each
recomputes `rating` / `total_reviews` from the committed reviews (READ COMMITTED gives every
statement a fresh snapshot, taken after the lock was granted).
"""

from __future__ import annotations

import logging
import uuid

import asyncpg

from bus.events import DOCTOR_REVIEWED
from bus.outbox import emit
from server import clock
from server.audit.service import record_change
from server.auth.principal import Principal
from server.doctors.errors import (
    PATIENTS_REVIEW,
    REVIEW_AFTER_VISIT,
    REVIEWED_ALREADY,
    AlreadyReviewed,
    DoctorNotFound,
    ReviewNotAllowed,
)
from server.doctors.events import DoctorReviewed, subject
from server.doctors.schemas import ReviewCreate, ReviewOut, ReviewPosted, ReviewsPage
from server.doctors.service import is_visible
from server.errors import NO_SUCH_DOCTOR, Forbidden
from storage import doctors as store
from storage import patients as patient_store
from storage.errors import ConstraintViolation

log = logging.getLogger(__name__)


async def list_reviews(
    pool: asyncpg.Pool, principal: Principal | None, doctor_id: uuid.UUID, limit: int, offset: int
) -> ReviewsPage:
    async with pool.acquire() as con:
        row = await store.get_doctor(con, doctor_id)
        if row is None or not is_visible(row, principal):
            raise DoctorNotFound(NO_SUCH_DOCTOR)
        rows = await store.list_reviews(con, doctor_id, limit, offset)
        total = await store.count_reviews(con, doctor_id)
    items = [ReviewOut.model_validate(dict(r)) for r in rows]
    return ReviewsPage(items=items, total=total, limit=limit, offset=offset)


async def post_review(
    pool: asyncpg.Pool, principal: Principal, doctor_id: uuid.UUID, body: ReviewCreate
) -> ReviewPosted:
    if principal.role != "patient":
        raise Forbidden(PATIENTS_REVIEW)
    async with pool.acquire() as con, con.transaction():
        doctor = await store.get_doctor(con, doctor_id, for_update=True)
        if doctor is None or not is_visible(doctor, principal):
            raise DoctorNotFound(NO_SUCH_DOCTOR)
        patient_id = await patient_store.patient_id_for_user(con, principal.user_id)
        status = (
            await store.appointment_status_for_review(
                con, body.appointment_id, doctor_id, patient_id
            )
            if patient_id is not None
            else None
        )
        if patient_id is None or status != "completed":
            raise ReviewNotAllowed(REVIEW_AFTER_VISIT)
        now = clock.now()
        try:
            review = await store.insert_review(
                con, doctor_id, patient_id, body.appointment_id, body.rating, body.comment, now
            )
        except ConstraintViolation as exc:  # one review per appointment
            raise AlreadyReviewed(REVIEWED_ALREADY) from exc
        tally = await store.refresh_rating(con, doctor_id, now)
        average = float(tally["rating"])
        await emit(
            con,
            DOCTOR_REVIEWED,
            subject(doctor_id),
            DoctorReviewed(
                doctor_id=doctor_id,
                review_id=review["id"],
                rating=body.rating,
                average_rating=average,
                total_reviews=tally["total_reviews"],
            ),
            actor=str(principal.user_id),
            at=now,
        )
        await record_change(con, resource_id=review["id"])
    log.info("doctor reviewed", extra={"doctor_id": str(doctor_id), "review_id": str(review["id"])})
    return ReviewPosted(
        review=ReviewOut.model_validate(dict(review)),
        average_rating=average,
        total_reviews=tally["total_reviews"],
    )
