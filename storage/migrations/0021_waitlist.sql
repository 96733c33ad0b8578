-- The waitlist (issue #22): patients waiting for an earlier slot with one doctor, and the offers
-- made to them. An offer is a hold of the slot for the offered patient (scheduling.appointments,
-- status 'held'), so the public grid never shows it and the exclusion constraints keep it single.
CREATE SCHEMA waitlist;

CREATE TABLE waitlist.entries (
    id uuid PRIMARY KEY,
    patient_id uuid NOT NULL REFERENCES patients.patients (id) ON DELETE CASCADE,
    doctor_id uuid NOT NULL REFERENCES doctors.doctors (id) ON DELETE CASCADE,
    visit_type text NOT NULL CHECK (visit_type IN ('in-person', 'teleconsultation')),
    reason_id uuid,
    -- The slot must start within [earliest, latest).
    earliest timestamptz NOT NULL,
    latest timestamptz NOT NULL CHECK (latest > earliest),
    -- ISO weekdays 1..7 (Monday 1) in the doctor's zone; empty means any day.
    weekdays smallint[] NOT NULL DEFAULT '{}',
    -- Time of day in the doctor's zone, [from, until); null means any time.
    day_from time,
    day_until time,
    -- "Move this appointment if something earlier opens"; null for a new booking.
    replaces_appointment_id uuid REFERENCES scheduling.appointments (id) ON DELETE SET NULL,
    status text NOT NULL DEFAULT 'waiting'
        CHECK (status IN ('waiting', 'offered', 'booked', 'left')),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
-- Fair order: first come, first offered (created_at, then id), per doctor.
CREATE INDEX entries_waiting ON waitlist.entries (doctor_id, created_at, id)
    WHERE status = 'waiting';
CREATE INDEX entries_patient ON waitlist.entries (patient_id);
-- A patient waits once per doctor and visit type.
CREATE UNIQUE INDEX entries_one_per_doctor ON waitlist.entries (patient_id, doctor_id, visit_type)
    WHERE status IN ('waiting', 'offered');

CREATE TABLE waitlist.offers (
    id uuid PRIMARY KEY,
    entry_id uuid NOT NULL REFERENCES waitlist.entries (id) ON DELETE CASCADE,
    appointment_id uuid NOT NULL UNIQUE REFERENCES scheduling.appointments (id) ON DELETE CASCADE,
    doctor_id uuid NOT NULL,
    start_at timestamptz NOT NULL,
    end_at timestamptz NOT NULL,
    visit_type text NOT NULL,
    expires_at timestamptz NOT NULL,
    status text NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'accepted', 'declined', 'lapsed')),
    created_at timestamptz NOT NULL
);
-- Never two open offers of one slot (the hold's exclusion constraint guards it too).
CREATE UNIQUE INDEX offers_one_open_per_slot ON waitlist.offers (doctor_id, start_at)
    WHERE status = 'open';
-- An entry is offered a given slot once: declining or lapsing passes it on.
CREATE UNIQUE INDEX offers_once_per_entry_slot ON waitlist.offers (entry_id, start_at);

-- How long an offer is held, per practice (default 10 minutes).
CREATE TABLE waitlist.practice_settings (
    doctor_id uuid PRIMARY KEY REFERENCES doctors.doctors (id) ON DELETE CASCADE,
    offer_minutes int NOT NULL DEFAULT 10 CHECK (offer_minutes BETWEEN 1 AND 1440)
);

-- "Running N minutes late", said by a doctor (or an admin for the front desk) for one day of
-- the doctor's zone; patients' expected starts add the larger of it and the inferred overrun.
CREATE TABLE waitlist.running_late (
    doctor_id uuid PRIMARY KEY REFERENCES doctors.doctors (id) ON DELETE CASCADE,
    minutes int NOT NULL CHECK (minutes BETWEEN 0 AND 480),
    on_day date NOT NULL,
    set_at timestamptz NOT NULL
);
