-- Patients: profiles, field-encrypted medical history, favorite doctors.
CREATE SCHEMA patients;

CREATE TABLE patients.patients (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id        uuid UNIQUE REFERENCES auth.users (id),  -- NULL once erased (GDPR)
    first_name     text NOT NULL,
    last_name      text NOT NULL,
    date_of_birth  date,
    gender         text,
    phone          text,
    address        jsonb NOT NULL DEFAULT '{}',
    insurance_info jsonb NOT NULL DEFAULT '{}',
    erased_at      timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE patients.medical_history (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    patient_id     uuid NOT NULL REFERENCES patients.patients (id) ON DELETE CASCADE,
    condition      jsonb NOT NULL,            -- encrypted field: {"kid", "nonce", "ct"}
    diagnosis_date date,
    notes          jsonb,                     -- encrypted field
    created_by     uuid,                      -- auth.users (id) of the author
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX medical_history_patient ON patients.medical_history (patient_id, created_at);

CREATE TABLE patients.favorite_doctors (
    patient_id uuid NOT NULL REFERENCES patients.patients (id) ON DELETE CASCADE,
    doctor_id  uuid NOT NULL REFERENCES doctors.doctors (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (patient_id, doctor_id)
);

-- Reviews are written by patients; the row outlives a GDPR erasure (only identity goes).
ALTER TABLE doctors.reviews
    ADD CONSTRAINT reviews_patient_fk FOREIGN KEY (patient_id) REFERENCES patients.patients (id);
CREATE INDEX reviews_patient ON doctors.reviews (patient_id);
