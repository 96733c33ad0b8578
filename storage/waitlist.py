"""The waitlist's rows: entries (who waits for what) and offers (a held slot proposed to one
entry). The order of offers is first come, first offered: created_at, then id.

The lock order: whatever changes an offer or its entry locks the offer's doctor's version row,
its hold (scheduling's own order, which a freed hold's transaction follows when it closes the
hold's offer: server.waitlist.offers), the offer, then the entry; an offer is made to an entry
locked without waiting (first_waiting, SKIP LOCKED). So answers, leaves and the hold sweeper
take turns instead of deadlocking.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time

import asyncpg

from storage.scheduling.appointments import lock_appointment
from storage.scheduling.versions import lock_version
from storage.search.folding import fold

ENTRY_COLUMNS = """e.id, e.patient_id, e.doctor_id, e.visit_type, e.reason_id, e.earliest,
    e.latest, e.weekdays, e.day_from, e.day_until, e.replaces_appointment_id, e.status,
    e.created_at, e.specialty, e.city, e.latitude, e.longitude, e.radius_km, e.proxy_user_id"""
OFFER_COLUMNS = """o.id AS offer_id, o.appointment_id, o.start_at, o.end_at, o.expires_at,
    o.status AS offer_status, o.doctor_id AS offer_doctor_id"""


@dataclass(frozen=True)
class NewEntry:
    """For one doctor (`doctor_id`), or for any doctor of `specialty` in `city` or within
    `radius_km` of (`latitude`, `longitude`). `proxy_user_id`: the account that joined for a
    relative it manages (None when the patient joined themself)."""

    id: uuid.UUID
    patient_id: uuid.UUID
    doctor_id: uuid.UUID | None
    visit_type: str
    reason_id: uuid.UUID | None
    earliest: datetime
    latest: datetime
    weekdays: list[int]
    day_from: time | None
    day_until: time | None
    replaces_appointment_id: uuid.UUID | None
    specialty: str | None = None
    city: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    radius_km: float | None = None
    proxy_user_id: uuid.UUID | None = None


def city_key(city: str | None) -> str | None:
    """A city in the form entries and doctors are matched in: search's folding (case, accents
    and punctuation aside: "SAINT-ÉTIENNE" and "Saint-Etienne" are "saint etienne")."""
    return fold(city) if city is not None else None


async def insert_entry(con: asyncpg.Connection, new: NewEntry, now: datetime) -> bool:
    """False when the patient already waits for this doctor (or specialty) and visit type."""
    inserted = await con.fetchval(
        """INSERT INTO waitlist.entries (id, patient_id, doctor_id, visit_type, reason_id,
               earliest, latest, weekdays, day_from, day_until, replaces_appointment_id,
               created_at, updated_at, specialty, city, latitude, longitude, radius_km,
               proxy_user_id, city_key)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14, $15, $16,
                   $17, $18, $19)
           ON CONFLICT DO NOTHING RETURNING true""",
        new.id,
        new.patient_id,
        new.doctor_id,
        new.visit_type,
        new.reason_id,
        new.earliest,
        new.latest,
        new.weekdays,
        new.day_from,
        new.day_until,
        new.replaces_appointment_id,
        now,
        new.specialty,
        new.city,
        new.latitude,
        new.longitude,
        new.radius_km,
        new.proxy_user_id,
        city_key(new.city),
    )
    return bool(inserted)


async def patient_entries(
    con: asyncpg.Connection, patient_ids: Sequence[uuid.UUID]
) -> list[asyncpg.Record]:
    """The live entries (waiting or offered) of these patients (a caller and the relatives it
    manages), oldest first, each with its open offer (offer columns null when none)."""
    rows: list[asyncpg.Record] = await con.fetch(
        f"""SELECT {ENTRY_COLUMNS}, {OFFER_COLUMNS}
            FROM waitlist.entries e
            LEFT JOIN waitlist.offers o ON o.entry_id = e.id AND o.status = 'open'
            WHERE e.patient_id = ANY ($1::uuid[]) AND e.status IN ('waiting', 'offered')
            ORDER BY e.created_at, e.id""",
        list(patient_ids),
    )
    return rows


async def leave_entry(
    con: asyncpg.Connection, entry_id: uuid.UUID, patient_ids: Sequence[uuid.UUID], now: datetime
) -> bool:
    """False when the entry is gone or belongs to none of `patient_ids`."""
    done = await con.fetchval(
        """UPDATE waitlist.entries SET status = 'left', updated_at = $3
           WHERE id = $1 AND patient_id = ANY ($2::uuid[]) AND status IN ('waiting', 'offered')
           RETURNING true""",
        entry_id,
        list(patient_ids),
        now,
    )
    return bool(done)


async def proxy_entry_ids(
    con: asyncpg.Connection, proxy_user_id: uuid.UUID, patient_ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    """The live entries (waiting or offered) the proxy made for these patients, oldest first
    (not locked: each is locked as it leaves, in the lock order)."""
    rows = await con.fetch(
        """SELECT id FROM waitlist.entries
           WHERE proxy_user_id = $1 AND patient_id = ANY ($2::uuid[])
             AND status IN ('waiting', 'offered')
           ORDER BY created_at, id""",
        proxy_user_id,
        list(patient_ids),
    )
    return [r["id"] for r in rows]


# An entry waits while whoever its offers go to acts for the patient (patients.acting_users):
# the patient's own active login, or the proxy who joined through a live link of an active
# account. A revoked link's, a suspended proxy's or a suspended patient's entry is never offered:
# the offer's notice would reach nobody (user_recipient checks the same view) and its hold would
# keep the slot from the next waiting patient.
WAITER_ACTS = """EXISTS (
    SELECT 1 FROM patients.acting_users a
    WHERE a.patient_id = e.patient_id
      AND (a.user_id = e.proxy_user_id OR (e.proxy_user_id IS NULL AND a.via = 'self')))"""


async def waiting_count(con: asyncpg.Connection, doctor_id: uuid.UUID, now: datetime) -> int:
    """Entries still waiting (or holding an offer) whose window has not passed."""
    count: int = await con.fetchval(
        f"""SELECT count(*) FROM waitlist.entries e
            WHERE e.doctor_id = $1 AND e.status IN ('waiting', 'offered') AND e.latest > $2
              AND {WAITER_ACTS}""",
        doctor_id,
        now,
    )
    return count


async def try_lock_slot(con: asyncpg.Connection, doctor_id: uuid.UUID, start: datetime) -> bool:
    """The per-slot lock scheduling.book_slot_audited tries (migrations 0014, 0032), until the
    transaction ends; False when a booking of the slot holds it now (that booking is taking
    the slot)."""
    taken: bool = await con.fetchval(
        """SELECT pg_try_advisory_xact_lock(
                      hashtext($1::uuid::text),
                      floor(extract(epoch FROM $2::timestamptz) / 60)::int)""",
        doctor_id,
        start,
    )
    return taken


async def slot_is_busy(
    con: asyncpg.Connection, doctor_id: uuid.UUID, start: datetime, end: datetime
) -> bool:
    busy: bool = await con.fetchval(
        """SELECT EXISTS (SELECT 1 FROM scheduling.appointments a
                          WHERE a.doctor_id = $1 AND a.period && tstzrange($2, $3, '[)')
                            AND a.status IN ('held', 'scheduled', 'confirmed'))""",
        doctor_id,
        start,
        end,
    )
    return busy


# An entry suits a slot of doctor `d` when it names `d`, or names none and waits for one of
# `d`'s specialties in `d`'s city (`here.city_key`: city_key(d.city), folded in Python as
# search folds, so case and accents aside) or within its radius of `d`.
SUITS_DOCTOR = """(e.doctor_id = d.id
    OR (e.doctor_id IS NULL AND e.specialty = ANY (d.specializations)
        AND ((e.city_key IS NOT NULL AND e.city_key = here.city_key)
             OR (e.radius_km IS NOT NULL AND d.latitude IS NOT NULL AND d.longitude IS NOT NULL
                 AND earth_distance(ll_to_earth(e.latitude, e.longitude),
                                    ll_to_earth(d.latitude, d.longitude))
                     <= e.radius_km * 1000))))"""


async def first_waiting(
    con: asyncpg.Connection,
    doctor_id: uuid.UUID,
    start: datetime,
    end: datetime,
    visit_type: str,
    now: datetime,
    given_up_by: uuid.UUID | None = None,
    doctor_city: str | None = None,
) -> asyncpg.Record | None:
    """The first waiting entry (fair order over the doctor's own entries and the specialty's
    area entries alike: created_at, then id) the slot [start, end) of the doctor suits: same
    visit type, inside its window, weekday and time of day (the doctor's zone), earlier than
    the appointment it would replace, the patient free then, never offered this slot before,
    nor to the patient `given_up_by` (who just cancelled or dropped it); a proxy's entry only
    while the proxy manages the patient. `doctor_city`: the doctor's city as written.
    `patient_user_id`: whom the offer goes to, the proxy who joined, else the patient's login.
    Locked (SKIP LOCKED: an entry another transaction holds, an offer being made to it, a
    leave or an answer, is passed over)."""
    row: asyncpg.Record | None = await con.fetchrow(
        f"""SELECT {ENTRY_COLUMNS}, d.time_zone,
                   coalesce(e.proxy_user_id, p.user_id) AS patient_user_id
            FROM doctors.doctors d
            CROSS JOIN (SELECT $7::text AS city_key) AS here
            JOIN waitlist.entries e ON {SUITS_DOCTOR}
            JOIN patients.patients p ON p.id = e.patient_id AND p.erased_at IS NULL
            WHERE d.id = $1 AND e.status = 'waiting' AND e.visit_type = $4 AND {WAITER_ACTS}
              AND $2 >= e.earliest AND $2 < e.latest AND $2 > $5
              AND e.patient_id IS DISTINCT FROM $6
              AND (cardinality(e.weekdays) = 0
                   OR extract(isodow FROM $2 AT TIME ZONE d.time_zone)::smallint = ANY (e.weekdays))
              AND (e.day_from IS NULL OR ($2 AT TIME ZONE d.time_zone)::time >= e.day_from)
              AND (e.day_until IS NULL OR ($2 AT TIME ZONE d.time_zone)::time < e.day_until)
              AND (e.replaces_appointment_id IS NULL OR EXISTS (
                    SELECT 1 FROM scheduling.appointments r
                    WHERE r.id = e.replaces_appointment_id AND lower(r.period) > $2
                      AND r.status IN ('scheduled', 'confirmed')))
              AND NOT EXISTS (
                    SELECT 1 FROM scheduling.appointments b
                    WHERE b.patient_id = e.patient_id AND b.period && tstzrange($2, $3, '[)')
                      AND b.status IN ('held', 'scheduled', 'confirmed')
                      AND b.id IS DISTINCT FROM e.replaces_appointment_id)
              AND NOT EXISTS (
                    SELECT 1 FROM waitlist.offers o
                    WHERE o.entry_id = e.id AND o.doctor_id = $1 AND o.start_at = $2)
            ORDER BY e.created_at, e.id
            LIMIT 1
            FOR UPDATE OF e SKIP LOCKED""",
        doctor_id,
        start,
        end,
        visit_type,
        now,
        given_up_by,
        city_key(doctor_city),
    )
    return row


async def waiting_window(
    con: asyncpg.Connection, doctor_id: uuid.UUID, doctor_city: str | None, now: datetime
) -> tuple[datetime, datetime] | None:
    """The span of start instants the waiting entries the doctor (in `doctor_city`, as
    written) suits still accept (from now on), or None when nobody waits for them."""
    row = await con.fetchrow(
        f"""SELECT greatest(min(e.earliest), $2) AS lo, max(e.latest) AS hi
            FROM doctors.doctors d
            CROSS JOIN (SELECT $3::text AS city_key) AS here
            JOIN waitlist.entries e ON {SUITS_DOCTOR}
            WHERE d.id = $1 AND e.status = 'waiting' AND e.latest > $2 AND {WAITER_ACTS}""",
        doctor_id,
        now,
        city_key(doctor_city),
    )
    if row is None or row["hi"] is None:
        return None
    return row["lo"], row["hi"]


async def offer_context(
    con: asyncpg.Connection, doctor_id: uuid.UUID, reason_id: uuid.UUID | None
) -> asyncpg.Record:
    """The fee (the reason's own when it has one), currency, rules stamp, buffer (minutes) and
    offer length (minutes) of the doctor."""
    row: asyncpg.Record = await con.fetchrow(
        """SELECT coalesce(r.fee_override, d.consultation_fee) AS fee, d.currency, v.rules_stamp,
                  coalesce(s.buffer_minutes, 0) AS buffer_minutes,
                  coalesce(w.offer_minutes, 10) AS offer_minutes
           FROM doctors.doctors d
           LEFT JOIN scheduling.availability_versions v ON v.doctor_id = d.id
           LEFT JOIN scheduling.doctor_settings s ON s.doctor_id = d.id
           LEFT JOIN waitlist.practice_settings w ON w.doctor_id = d.id
           LEFT JOIN scheduling.visit_reasons r ON r.id = $2 AND r.doctor_id = d.id
           WHERE d.id = $1""",
        doctor_id,
        reason_id,
    )
    return row


async def insert_offer(
    con: asyncpg.Connection,
    offer_id: uuid.UUID,
    entry_id: uuid.UUID,
    appointment_id: uuid.UUID,
    doctor_id: uuid.UUID,
    start: datetime,
    end: datetime,
    visit_type: str,
    expires_at: datetime,
    now: datetime,
) -> None:
    await con.execute(
        """INSERT INTO waitlist.offers (id, entry_id, appointment_id, doctor_id, start_at,
               end_at, visit_type, expires_at, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        offer_id,
        entry_id,
        appointment_id,
        doctor_id,
        start,
        end,
        visit_type,
        expires_at,
        now,
    )
    await con.execute(
        "UPDATE waitlist.entries SET status = 'offered', updated_at = $2 WHERE id = $1",
        entry_id,
        now,
    )


async def share_proxy_link(
    con: asyncpg.Connection, offer_id: uuid.UUID, proxy_user_id: uuid.UUID
) -> uuid.UUID | None:
    """The relative the offer is for when the user is their live proxy, the link locked FOR
    SHARE for the caller's transaction (storage.relatives.share_link); else None."""
    relative_id: uuid.UUID | None = await con.fetchval(
        """SELECT l.relative_id
           FROM waitlist.offers o
           JOIN waitlist.entries e ON e.id = o.entry_id
           JOIN patients.relatives l
             ON l.relative_id = e.patient_id AND l.proxy_user_id = $2 AND l.revoked_at IS NULL
           WHERE o.id = $1
           FOR SHARE OF l""",
        offer_id,
        proxy_user_id,
    )
    return relative_id


async def lock_offer(
    con: asyncpg.Connection, offer_id: uuid.UUID, patient_ids: Sequence[uuid.UUID]
) -> asyncpg.Record | None:
    """The offer to one of `patient_ids`, with its entry's patient and replaced appointment,
    read under the lock order's locks; None when it is none of theirs."""
    seen = await con.fetchrow(
        """SELECT o.appointment_id, o.doctor_id
           FROM waitlist.offers o JOIN waitlist.entries e ON e.id = o.entry_id
           WHERE o.id = $1 AND e.patient_id = ANY ($2::uuid[])""",
        offer_id,
        list(patient_ids),
    )
    if seen is None:
        return None
    await lock_version(con, seen["doctor_id"])
    await lock_appointment(con, seen["appointment_id"])
    await con.execute("SELECT 1 FROM waitlist.offers WHERE id = $1 FOR UPDATE", offer_id)
    row: asyncpg.Record | None = await con.fetchrow(
        """SELECT o.id, o.entry_id, o.appointment_id, o.doctor_id, o.start_at, o.expires_at,
                  o.status, e.patient_id, e.replaces_appointment_id
           FROM waitlist.offers o JOIN waitlist.entries e ON e.id = o.entry_id
           WHERE o.id = $1
           FOR UPDATE OF e""",
        offer_id,
    )
    return row


async def lock_entry(
    con: asyncpg.Connection, entry_id: uuid.UUID, patient_ids: Sequence[uuid.UUID]
) -> bool:
    """Lock the live entry (waiting or offered) of one of `patient_ids` (the lock order's
    last); False when there is none."""
    locked: bool | None = await con.fetchval(
        """SELECT true FROM waitlist.entries
           WHERE id = $1 AND patient_id = ANY ($2::uuid[]) AND status IN ('waiting', 'offered')
           FOR UPDATE""",
        entry_id,
        list(patient_ids),
    )
    return bool(locked)


async def open_offer_id(con: asyncpg.Connection, entry_id: uuid.UUID) -> uuid.UUID | None:
    """The entry's open offer as this statement sees it (not locked)."""
    offer_id: uuid.UUID | None = await con.fetchval(
        "SELECT id FROM waitlist.offers WHERE entry_id = $1 AND status = 'open'", entry_id
    )
    return offer_id


async def close_offer(
    con: asyncpg.Connection, offer_id: uuid.UUID, status: str, entry_status: str, now: datetime
) -> None:
    """Close an open offer as `status`; its entry becomes `entry_status` (unless it was left)."""
    await con.execute(
        """WITH closed AS (
               UPDATE waitlist.offers SET status = $2 WHERE id = $1 AND status = 'open'
               RETURNING entry_id)
           UPDATE waitlist.entries SET status = $3, updated_at = $4
           WHERE id IN (SELECT entry_id FROM closed) AND status = 'offered'""",
        offer_id,
        status,
        entry_status,
        now,
    )


async def lapse_offer_of(con: asyncpg.Connection, appointment_id: uuid.UUID, now: datetime) -> bool:
    """The hold behind an open offer is gone (expired or cancelled): the offer lapsed and its
    entry waits again. False when `appointment_id` held no open offer."""
    offer_id: uuid.UUID | None = await con.fetchval(
        "SELECT id FROM waitlist.offers WHERE appointment_id = $1 AND status = 'open'",
        appointment_id,
    )
    if offer_id is None:
        return False
    await close_offer(con, offer_id, "lapsed", "waiting", now)
    return True


async def extend_hold(
    con: asyncpg.Connection, appointment_id: uuid.UUID, expires_at: datetime, now: datetime
) -> None:
    """An accepted offer still to be paid: the hold lasts for the checkout now."""
    await con.execute(
        """UPDATE scheduling.appointments SET hold_expires_at = $2, updated_at = $3
           WHERE id = $1 AND status = 'held'""",
        appointment_id,
        expires_at,
        now,
    )


async def set_booked_by(
    con: asyncpg.Connection, appointment_id: uuid.UUID, user_id: uuid.UUID | None
) -> None:
    """Whoever accepts an offer books it: the proxy acting for the patient (read back as
    booked_by, migration 0023), or nobody but the patient (null)."""
    await con.execute(
        "UPDATE scheduling.appointments SET created_by = $2 WHERE id = $1",
        appointment_id,
        user_id,
    )


async def reason_offered(
    con: asyncpg.Connection, doctor_id: uuid.UUID, reason_id: uuid.UUID, visit_type: str
) -> bool:
    """The doctor offers this (not archived) reason for `visit_type`."""
    found: bool = await con.fetchval(
        """SELECT EXISTS (SELECT 1 FROM scheduling.visit_reasons
                          WHERE id = $1 AND doctor_id = $2 AND archived_at IS NULL
                            AND $3 = ANY (visit_types))""",
        reason_id,
        doctor_id,
        visit_type,
    )
    return found


async def upcoming_appointment_of(
    con: asyncpg.Connection, appointment_id: uuid.UUID, patient_id: uuid.UUID, now: datetime
) -> asyncpg.Record | None:
    """The patient's scheduled or confirmed appointment that has not started, else None."""
    row: asyncpg.Record | None = await con.fetchrow(
        """SELECT id, doctor_id, lower(period) AS start_at FROM scheduling.appointments
           WHERE id = $1 AND patient_id = $2 AND status IN ('scheduled', 'confirmed')
             AND lower(period) > $3""",
        appointment_id,
        patient_id,
        now,
    )
    return row


async def freed_appointment(con: asyncpg.Connection, appointment_id: uuid.UUID) -> asyncpg.Record:
    """The appointment that freed a slot: `location` (where it was to take place),
    `patient_id` (who gave it up) and `city` (its doctor's)."""
    row: asyncpg.Record = await con.fetchrow(
        """SELECT a.location, a.patient_id, d.city
           FROM scheduling.appointments a JOIN doctors.doctors d ON d.id = a.doctor_id
           WHERE a.id = $1""",
        appointment_id,
    )
    return row


async def doctor_city(con: asyncpg.Connection, doctor_id: uuid.UUID) -> str | None:
    """The doctor's city as written; None for no such doctor."""
    city: str | None = await con.fetchval(
        "SELECT city FROM doctors.doctors WHERE id = $1", doctor_id
    )
    return city


async def practice_settings(con: asyncpg.Connection, doctor_id: uuid.UUID) -> asyncpg.Record:
    """`offer_minutes` (default 10) and `prepay_no_show_threshold` (null: never) of the
    practice."""
    row: asyncpg.Record = await con.fetchrow(
        """SELECT coalesce(w.offer_minutes, 10) AS offer_minutes, w.prepay_no_show_threshold
           FROM (SELECT 1) AS one
           LEFT JOIN waitlist.practice_settings w ON w.doctor_id = $1""",
        doctor_id,
    )
    return row


async def save_practice_settings(
    con: asyncpg.Connection, doctor_id: uuid.UUID, offer_minutes: int, threshold: int | None
) -> None:
    await con.execute(
        """INSERT INTO waitlist.practice_settings (doctor_id, offer_minutes,
               prepay_no_show_threshold)
           VALUES ($1, $2, $3)
           ON CONFLICT (doctor_id) DO UPDATE
           SET offer_minutes = EXCLUDED.offer_minutes,
               prepay_no_show_threshold = EXCLUDED.prepay_no_show_threshold""",
        doctor_id,
        offer_minutes,
        threshold,
    )


async def prepay_required(
    con: asyncpg.Connection, doctor_id: uuid.UUID, patient_id: uuid.UUID
) -> bool:
    """The patient's no-shows with the practice reached its prepayment threshold."""
    required: bool = await con.fetchval(
        """SELECT coalesce(w.prepay_no_show_threshold <= (
                      SELECT count(*) FROM scheduling.appointments a
                      WHERE a.doctor_id = $1 AND a.patient_id = $2 AND a.status = 'no-show'),
                  false)
           FROM (SELECT 1) AS one
           LEFT JOIN waitlist.practice_settings w ON w.doctor_id = $1""",
        doctor_id,
        patient_id,
    )
    return required


async def reason_pays_at_visit(con: asyncpg.Connection, reason_id: uuid.UUID | None) -> bool:
    if reason_id is None:
        return False
    found: bool | None = await con.fetchval(
        "SELECT pay_at_visit FROM scheduling.visit_reasons WHERE id = $1", reason_id
    )
    return bool(found)


async def specialty_exists(con: asyncpg.Connection, code: str) -> bool:
    found: bool = await con.fetchval(
        "SELECT EXISTS (SELECT 1 FROM doctors.specializations WHERE code = $1)", code
    )
    return found
