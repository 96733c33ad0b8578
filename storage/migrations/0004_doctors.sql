-- Doctors: profiles, specializations, verification state, reviews.
CREATE SCHEMA doctors;

CREATE TABLE doctors.specializations (
    code     text PRIMARY KEY,              -- e.g. 'cardiology'
    name_en  text NOT NULL,
    name_fr  text NOT NULL
);

CREATE TABLE doctors.doctors (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id               uuid NOT NULL UNIQUE REFERENCES auth.users (id),
    first_name            text NOT NULL,
    last_name             text NOT NULL,
    specializations       text[] NOT NULL DEFAULT '{}',   -- specialization codes
    license_number        text NOT NULL UNIQUE,
    years_of_experience   int NOT NULL DEFAULT 0 CHECK (years_of_experience >= 0),
    consultation_fee      int NOT NULL CHECK (consultation_fee >= 0),  -- minor units
    currency              char(3) NOT NULL DEFAULT 'EUR',
    bio                   text NOT NULL DEFAULT '',
    profile_image_url     text,
    languages             text[] NOT NULL DEFAULT '{}',   -- ISO 639-1 codes
    address_line          text NOT NULL DEFAULT '',
    city                  text NOT NULL DEFAULT '',
    postcode              text NOT NULL DEFAULT '',
    country               char(2) NOT NULL DEFAULT 'FR',
    latitude              double precision CHECK (latitude BETWEEN -90 AND 90),
    longitude             double precision CHECK (longitude BETWEEN -180 AND 180),
    time_zone             text NOT NULL DEFAULT 'Europe/Paris',  -- IANA name
    accepts_new_patients  boolean NOT NULL DEFAULT true,
    verification_status   text NOT NULL DEFAULT 'unverified'
                          CHECK (verification_status IN ('unverified', 'verified', 'rejected')),
    verified_at           timestamptz,
    verification_note     text,                           -- admin's reason on rejection
    rating                numeric(3, 2) NOT NULL DEFAULT 0,
    total_reviews         int NOT NULL DEFAULT 0,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE doctors.reviews (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    doctor_id      uuid NOT NULL REFERENCES doctors.doctors (id),
    patient_id     uuid NOT NULL,             -- patients.patients (id)
    appointment_id uuid NOT NULL UNIQUE,      -- one review per appointment
    rating         int NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment        text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reviews_doctor ON doctors.reviews (doctor_id, created_at DESC);
CREATE INDEX doctors_verification ON doctors.doctors (verification_status);

-- The catalogue doctors pick their specializations from (codes are API values).
INSERT INTO doctors.specializations (code, name_en, name_fr) VALUES
    ('general-practice',    'General practice',            'Médecine générale'),
    ('cardiology',          'Cardiology',                  'Cardiologie'),
    ('dermatology',         'Dermatology',                 'Dermatologie'),
    ('pediatrics',          'Paediatrics',                 'Pédiatrie'),
    ('gynecology',          'Gynaecology & obstetrics',    'Gynécologie-obstétrique'),
    ('psychiatry',          'Psychiatry',                  'Psychiatrie'),
    ('ophthalmology',       'Ophthalmology',               'Ophtalmologie'),
    ('ent',                 'Ear, nose & throat',          'Oto-rhino-laryngologie'),
    ('orthopedics',         'Orthopaedic surgery',         'Chirurgie orthopédique'),
    ('neurology',           'Neurology',                   'Neurologie'),
    ('gastroenterology',    'Gastroenterology',            'Gastro-entérologie'),
    ('endocrinology',       'Endocrinology & diabetology', 'Endocrinologie-diabétologie'),
    ('pulmonology',         'Pulmonology',                 'Pneumologie'),
    ('rheumatology',        'Rheumatology',                'Rhumatologie'),
    ('urology',             'Urology',                     'Urologie'),
    ('nephrology',          'Nephrology',                  'Néphrologie'),
    ('oncology',            'Oncology',                    'Oncologie'),
    ('hematology',          'Haematology',                 'Hématologie'),
    ('allergology',         'Allergology',                 'Allergologie'),
    ('radiology',           'Radiology',                   'Radiologie'),
    ('anesthesiology',      'Anaesthesiology',             'Anesthésie-réanimation'),
    ('sports-medicine',     'Sports medicine',             'Médecine du sport'),
    ('geriatrics',          'Geriatrics',                  'Gériatrie'),
    ('infectious-diseases', 'Infectious diseases',         'Maladies infectieuses'),
    ('plastic-surgery',     'Plastic surgery',             'Chirurgie plastique'),
    ('dentistry',           'Dentistry',                   'Chirurgie dentaire'),
    ('physiotherapy',       'Physiotherapy',               'Kinésithérapie'),
    ('midwifery',           'Midwifery',                   'Maïeutique (sage-femme)');
