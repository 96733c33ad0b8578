-- Scheduling: doctors' availability (weekly rules, date exceptions, visit reasons, settings),
-- appointments with holds, and the per-doctor availability version that orders slot changes.
CREATE SCHEMA scheduling;

-- Bumped (UPDATE ... RETURNING) by every transaction that changes a doctor's free slots: the row
-- lock serialises those transactions per doctor, and clients order slot deltas by the version.
CREATE TABLE scheduling.availability_versions (
    doctor_id uuid PRIMARY KEY REFERENCES doctors.doctors (id),
    version   bigint NOT NULL DEFAULT 0
);

-- No row means the defaults in server/scheduling/model.py (2 h notice, 12 weeks, no buffer).
CREATE TABLE scheduling.doctor_settings (
    doctor_id          uuid PRIMARY KEY REFERENCES doctors.doctors (id),
    min_notice_minutes int NOT NULL CHECK (min_notice_minutes BETWEEN 0 AND 43200),
    max_horizon_days   int NOT NULL CHECK (max_horizon_days BETWEEN 1 AND 730),
    buffer_minutes     int NOT NULL DEFAULT 0 CHECK (buffer_minutes BETWEEN 0 AND 240),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- Local wall-clock times in the doctor's IANA zone (doctors.doctors.time_zone).
CREATE TABLE scheduling.weekly_rules (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    doctor_id    uuid NOT NULL REFERENCES doctors.doctors (id),
    day_of_week  smallint NOT NULL CHECK (day_of_week BETWEEN 1 AND 7),  -- ISO 8601: 1 = Monday
    start_time   time NOT NULL,
    end_time     time NOT NULL,
    slot_minutes int NOT NULL CHECK (slot_minutes > 0),
    visit_type   text NOT NULL CHECK (visit_type IN ('in-person', 'teleconsultation')),
    location     text NOT NULL DEFAULT '',
    CHECK (end_time > start_time)
);
CREATE INDEX weekly_rules_doctor ON scheduling.weekly_rules (doctor_id, day_of_week);

-- Time off (whole days or a time window on each day of the range) and extra opening hours.
CREATE TABLE scheduling.date_exceptions (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    doctor_id    uuid NOT NULL REFERENCES doctors.doctors (id),
    kind         text NOT NULL CHECK (kind IN ('time-off', 'extra-hours')),
    start_date   date NOT NULL,
    end_date     date NOT NULL,
    start_time   time,
    end_time     time,
    slot_minutes int CHECK (slot_minutes > 0),
    visit_type   text CHECK (visit_type IN ('in-person', 'teleconsultation')),
    location     text NOT NULL DEFAULT '',
    note         text NOT NULL DEFAULT '',
    CHECK (end_date >= start_date),
    CHECK ((start_time IS NULL) = (end_time IS NULL)),
    CHECK (start_time IS NULL OR end_time > start_time),
    CHECK (kind = 'time-off'
           OR (start_time IS NOT NULL AND slot_minutes IS NOT NULL AND visit_type IS NOT NULL))
);
CREATE INDEX date_exceptions_doctor ON scheduling.date_exceptions (doctor_id, end_date);

-- Visit reasons ("motifs"). Replacing a doctor's availability archives the reasons it drops, so
-- appointments keep pointing at the reason they were booked for.
CREATE TABLE scheduling.visit_reasons (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    doctor_id            uuid NOT NULL REFERENCES doctors.doctors (id),
    name                 text NOT NULL,
    duration_minutes     int NOT NULL CHECK (duration_minutes > 0),
    visit_types          text[] NOT NULL
                         CHECK (cardinality(visit_types) > 0
                                AND visit_types <@ ARRAY['in-person', 'teleconsultation']),
    fee_override         int CHECK (fee_override >= 0),   -- minor units, doctor's currency
    new_patients_allowed boolean NOT NULL DEFAULT true,
    position             int NOT NULL DEFAULT 0,
    archived_at          timestamptz
);
CREATE INDEX visit_reasons_doctor ON scheduling.visit_reasons (doctor_id) WHERE archived_at IS NULL;

CREATE TABLE scheduling.appointments (
    id                  uuid PRIMARY KEY,
    doctor_id           uuid NOT NULL REFERENCES doctors.doctors (id),
    patient_id          uuid NOT NULL REFERENCES patients.patients (id),
    period              tstzrange NOT NULL,
    visit_type          text NOT NULL CHECK (visit_type IN ('in-person', 'teleconsultation')),
    status              text NOT NULL CHECK (status IN ('held', 'scheduled', 'confirmed',
                                                        'completed', 'cancelled', 'no-show')),
    reason_id           uuid REFERENCES scheduling.visit_reasons (id),
    location            text NOT NULL DEFAULT '',
    notes               jsonb,                 -- encrypted field {"kid", "nonce", "ct"}, aad = id
    fee                 int NOT NULL CHECK (fee >= 0),
    currency            char(3) NOT NULL,
    hold_expires_at     timestamptz,
    cancelled_by        text CHECK (cancelled_by IN ('patient', 'doctor', 'admin', 'system')),
    cancellation_reason text,
    cancelled_at        timestamptz,
    created_by          uuid,                  -- auth.users (id)
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT appointments_period_bounded CHECK (
        NOT isempty(period) AND NOT lower_inf(period) AND NOT upper_inf(period)
        AND lower_inc(period) AND NOT upper_inc(period)),
    CONSTRAINT appointments_hold_has_expiry CHECK (status <> 'held' OR hold_expires_at IS NOT NULL),
    -- The guard against double booking, whatever the number of server nodes.
    CONSTRAINT appointments_no_doctor_overlap EXCLUDE USING gist (doctor_id WITH =, period WITH &&)
        WHERE (status IN ('held', 'scheduled', 'confirmed')),
    CONSTRAINT appointments_no_patient_overlap EXCLUDE USING gist (patient_id WITH =, period WITH &&)
        WHERE (status IN ('held', 'scheduled', 'confirmed'))
);
CREATE INDEX appointments_doctor_start ON scheduling.appointments (doctor_id, lower(period));
CREATE INDEX appointments_patient_start ON scheduling.appointments (patient_id, lower(period));
CREATE INDEX appointments_open_holds ON scheduling.appointments (hold_expires_at)
    WHERE status = 'held';

-- What the API shows of an appointment: the row plus the parties' user ids, the doctor's zone
-- (times are rendered in it) and the reason's name.
CREATE VIEW scheduling.appointment_details AS
SELECT a.id, a.doctor_id, a.patient_id, lower(a.period) AS start_at, upper(a.period) AS end_at,
       a.visit_type, a.status, a.reason_id, r.name AS reason_name, a.location, a.notes, a.fee,
       a.currency, a.hold_expires_at, a.cancelled_by, a.cancellation_reason, a.cancelled_at,
       a.created_at, a.updated_at, d.time_zone, d.user_id AS doctor_user_id,
       p.user_id AS patient_user_id
FROM scheduling.appointments a
JOIN doctors.doctors d ON d.id = a.doctor_id
JOIN patients.patients p ON p.id = a.patient_id
LEFT JOIN scheduling.visit_reasons r ON r.id = a.reason_id;
