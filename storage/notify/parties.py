"""Who an appointment's messages go to: the doctor, and everyone acting for the patient
(patients.acting_users: their own login and each active proxy), with addresses and preferences.

Read-only over the tables of auth, doctors, patients and scheduling (their owners write them).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.notify import Db
from storage.relatives import acts_for


@dataclass(frozen=True)
class Recipient:
    user_id: uuid.UUID
    role: str  # 'patient' or 'doctor'
    name: str
    email: str
    phone: str | None  # E.164 (preferences first, else the patient profile's)
    language: str
    time_zone: str | None  # None: the doctor's
    email_on: bool
    sms_on: bool
    in_app_on: bool


@dataclass(frozen=True)
class AppointmentContext:
    id: uuid.UUID
    doctor_id: uuid.UUID
    start: datetime
    end: datetime
    status: str
    visit_type: str
    location: str
    address: str
    doctor_time_zone: str
    reason: str | None
    patient_name: str  # the appointment's patient ("" once erased)
    patient_user_id: uuid.UUID | None  # the patient's own login (None: a relative without one)
    # Everyone acting for the patient, oldest first, each with their own address, language
    # and preferences (a proxy's fallback phone is the proxy's own profile's); empty once the
    # patient is erased with nobody acting for them.
    acting: tuple[Recipient, ...]
    doctor: Recipient

    def other_name(self, person: Recipient) -> str:
        """The other party's name as `person` reads it."""
        return self.doctor.name if person.role == "patient" else self.patient_name

    def for_whom(self, person: Recipient) -> str | None:
        """The patient's name when `person` acts for them (a proxy), None when `person` is the
        patient or the doctor: the messages then say whose appointment it is."""
        if person.role != "patient" or person.user_id == self.patient_user_id:
            return None
        return self.patient_name


# A user's address and preferences as one JSON object, for a LATERAL join on the user's id.
_PARTY = """
    SELECT jsonb_build_object(
               'id', u.id, 'email', u.email, 'language', coalesce(np.language, 'en'),
               'time_zone', np.time_zone, 'email_on', coalesce(np.email, true),
               'sms_on', coalesce(np.sms, true), 'in_app_on', coalesce(np.in_app, true),
               'phone', np.phone) AS party
    FROM auth.users u LEFT JOIN notify.preferences np ON np.user_id = u.id
    WHERE u.id = {user} AND u.is_active"""


def _recipient(
    party: dict[str, Any] | None, role: str, name: str, profile_phone: str | None
) -> Recipient | None:
    if party is None:
        return None
    return Recipient(
        user_id=uuid.UUID(str(party["id"])),
        role=role,
        name=name,
        email=party["email"],
        phone=party["phone"] or profile_phone,
        language=party["language"],
        time_zone=party["time_zone"],
        email_on=party["email_on"],
        sms_on=party["sms_on"],
        in_app_on=party["in_app_on"],
    )


async def appointment_context(db: Db, appointment_id: uuid.UUID) -> AppointmentContext | None:
    """The appointment, the doctor and everyone acting for the patient, in one round trip."""
    row = await db.fetchrow(
        f"""SELECT a.id, a.doctor_id, a.start_at, a.end_at, a.status, a.visit_type, a.location,
                   a.reason_name, a.time_zone, d.first_name AS d_first, d.last_name AS d_last,
                   d.address_line, d.postcode, d.city, p.first_name AS p_first,
                   p.last_name AS p_last, p.erased_at IS NOT NULL AS p_erased,
                   a.patient_user_id,
                   dp.party AS doctor_party,
                   (SELECT coalesce(jsonb_agg(jsonb_build_object('party', xp.party,
                                                                 'phone', me.phone,
                                                                 'name', me.first_name || ' '
                                                                         || me.last_name)
                                              ORDER BY x.since, x.user_id), '[]')
                    FROM patients.acting_users x
                    JOIN LATERAL ({_PARTY.format(user="x.user_id")}) xp ON true
                    LEFT JOIN patients.patients me ON me.user_id = x.user_id
                    WHERE x.patient_id = a.patient_id) AS acting
            FROM scheduling.appointment_details a
            JOIN doctors.doctors d ON d.id = a.doctor_id
            JOIN patients.patients p ON p.id = a.patient_id
            LEFT JOIN LATERAL ({_PARTY.format(user="a.doctor_user_id")}) dp ON true
            WHERE a.id = $1""",
        appointment_id,
    )
    if row is None:
        return None
    doctor = _recipient(row["doctor_party"], "doctor", f"Dr {row['d_first']} {row['d_last']}", None)
    assert doctor is not None  # doctors are never erased
    patient_name = "" if row["p_erased"] else f"{row['p_first']} {row['p_last']}"
    # Each acting user is greeted by their own name (a proxy by theirs, not the patient's).
    found = (
        _recipient(x["party"], "patient", x["name"] or x["party"]["email"], x["phone"])
        for x in row["acting"]
        if x["party"] is not None
    )
    town = f"{row['postcode']} {row['city']}".strip()
    return AppointmentContext(
        id=row["id"],
        doctor_id=row["doctor_id"],
        start=row["start_at"],
        end=row["end_at"],
        status=row["status"],
        visit_type=row["visit_type"],
        location=row["location"],
        address=", ".join(part for part in (row["address_line"], town) if part),
        doctor_time_zone=row["time_zone"],
        reason=row["reason_name"],
        patient_name=patient_name,
        patient_user_id=row["patient_user_id"],
        acting=tuple(r for r in found if r is not None),
        doctor=doctor,
    )


async def user_recipient(
    db: Db, user_id: uuid.UUID, *, acting_for: uuid.UUID | None = None
) -> Recipient | None:
    """A user as a recipient of account messages (no appointment): e.g. an MFA code. With
    `acting_for` (a patient id), None unless the user acts for that patient now
    (patients.acting_users): an event naming a proxy is delivered later than it was made, and
    a proxy whose link was revoked meanwhile hears nothing more of the patient."""
    if acting_for is not None and not await acts_for(db, user_id, acting_for):
        return None
    row = await db.fetchrow(
        """SELECT u.role, coalesce(p.first_name || ' ' || p.last_name,
                                   'Dr ' || d.first_name || ' ' || d.last_name, u.email) AS name,
                  p.phone
           FROM auth.users u
           LEFT JOIN patients.patients p ON p.user_id = u.id
           LEFT JOIN doctors.doctors d ON d.user_id = u.id
           WHERE u.id = $1""",
        user_id,
    )
    if row is None:
        return None
    party = await db.fetchval(_PARTY.format(user="$1"), user_id)
    return _recipient(party, row["role"], row["name"], row["phone"])


async def patient_name_and_login(db: Db, patient_id: uuid.UUID) -> tuple[str, uuid.UUID | None]:
    """("First Last", the patient's own login or None); ("", None) for an unknown one."""
    row = await db.fetchrow(
        "SELECT first_name || ' ' || last_name AS name, user_id FROM patients.patients"
        " WHERE id = $1",
        patient_id,
    )
    return (str(row["name"]), row["user_id"]) if row else ("", None)


async def favourite_patients(db: Db, doctor_id: uuid.UUID) -> tuple[str, list[Recipient]]:
    """The doctor's name and the patients (still active) who keep the doctor as a favourite."""
    name = await db.fetchval(
        "SELECT 'Dr ' || first_name || ' ' || last_name FROM doctors.doctors WHERE id = $1",
        doctor_id,
    )
    rows = await db.fetch(
        f"""SELECT p.first_name || ' ' || p.last_name AS name, p.phone, party.party
            FROM patients.favorite_doctors f
            JOIN patients.patients p ON p.id = f.patient_id AND p.erased_at IS NULL
            JOIN LATERAL ({_PARTY.format(user="p.user_id")}) party ON true
            WHERE f.doctor_id = $1""",
        doctor_id,
    )
    found = (_recipient(r["party"], "patient", r["name"], r["phone"]) for r in rows)
    return str(name or ""), [r for r in found if r is not None]


async def doctor_name_and_zone(db: Db, doctor_id: uuid.UUID) -> tuple[str, str]:
    """("Dr First Last", the practice's IANA zone); ("", "UTC") for an unknown doctor."""
    row = await db.fetchrow(
        "SELECT 'Dr ' || first_name || ' ' || last_name AS name, time_zone"
        " FROM doctors.doctors WHERE id = $1",
        doctor_id,
    )
    return (str(row["name"]), str(row["time_zone"])) if row else ("", "UTC")
