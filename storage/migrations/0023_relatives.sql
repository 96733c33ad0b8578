-- Family and proxy booking (issue #24): an account manages relatives' patient profiles.
--
-- A relative is a patients.patients row of its own (its medical history, its appointments);
-- made by a proxy it has no login (user_id NULL). patients.relatives links a proxy account to
-- it, with the consent on record and what the proxy may see. A removed link stays, revoked, so
-- the appointments it booked still say who booked them.
CREATE TABLE patients.relatives (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    proxy_user_id    uuid NOT NULL REFERENCES auth.users (id),
    relative_id      uuid NOT NULL REFERENCES patients.patients (id),
    -- FHIR RelatedPerson.relationship, v3-RoleCode: what the relative is to the proxy.
    relationship     text NOT NULL CHECK (relationship IN (
                         'CHILD', 'SON', 'DAU', 'STPCHLD', 'FTH', 'MTH', 'PRN', 'GRPRN',
                         'GRNDCHILD', 'SIB', 'SPS', 'HUSB', 'WIFE', 'DOMPART', 'FAMMEMB',
                         'GUARD', 'NOK')),
    -- Who consented: the adult relative themself, or the proxy as the minor's legal guardian.
    consent_basis    text NOT NULL CHECK (consent_basis IN ('self', 'legal_guardian')),
    consent_at       timestamptz NOT NULL,
    consent_by       uuid NOT NULL,                -- auth.users (id) who recorded it
    can_view_history boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL,
    revoked_at       timestamptz,
    CONSTRAINT relatives_one_link UNIQUE (proxy_user_id, relative_id)
);
CREATE INDEX relatives_proxy ON patients.relatives (proxy_user_id) WHERE revoked_at IS NULL;
CREATE INDEX relatives_relative ON patients.relatives (relative_id) WHERE revoked_at IS NULL;

-- The appointment's patient_user_id is who acts for the patient: the patient's own login, else
-- the relative's first active proxy (so reminders, the consultation room and chat reach them).
-- booked_by_*: the proxy who booked it (created_by linked to the patient), null otherwise.
CREATE OR REPLACE VIEW scheduling.appointment_details AS
SELECT a.id, a.doctor_id, a.patient_id, lower(a.period) AS start_at, upper(a.period) AS end_at,
       a.visit_type, a.status, a.reason_id, r.name AS reason_name, a.location, a.notes, a.fee,
       a.currency, a.hold_expires_at, a.cancelled_by, a.cancellation_reason, a.cancelled_at,
       a.created_at, a.updated_at, d.time_zone, d.user_id AS doctor_user_id,
       coalesce(p.user_id, (SELECT x.proxy_user_id FROM patients.relatives x
                            WHERE x.relative_id = a.patient_id AND x.revoked_at IS NULL
                            ORDER BY x.created_at, x.id LIMIT 1)) AS patient_user_id,
       bl.proxy_user_id AS booked_by_user_id,
       bp.id AS booked_by_patient_id,
       bp.first_name || ' ' || bp.last_name AS booked_by_name,
       bl.relationship AS booked_by_relationship
FROM scheduling.appointments a
JOIN doctors.doctors d ON d.id = a.doctor_id
JOIN patients.patients p ON p.id = a.patient_id
LEFT JOIN scheduling.visit_reasons r ON r.id = a.reason_id
LEFT JOIN patients.relatives bl ON bl.proxy_user_id = a.created_by AND bl.relative_id = a.patient_id
LEFT JOIN patients.patients bp ON bp.user_id = bl.proxy_user_id;
