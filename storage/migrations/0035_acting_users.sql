-- Who acts for a patient (issue #24): one definition for every reader. A relative may have
-- several active proxies (both parents) besides a login of their own; 0023's view picked one
-- of them (the first proxy), so the others heard nothing of the appointments and could not
-- join the consultation.
--
-- patients.acting_users: one row per user acting for the patient, the patient's own login
-- ('self') and each proxy whose link is not revoked ('proxy'); `since` orders them (oldest
-- first). An erased patient has no login (user_id NULL) and no live link left.
CREATE VIEW patients.acting_users AS
SELECT p.id AS patient_id, p.user_id, 'self' AS via, p.created_at AS since
FROM patients.patients p
WHERE p.user_id IS NOT NULL
UNION ALL
SELECT l.relative_id, l.proxy_user_id, 'proxy', l.created_at
FROM patients.relatives l
WHERE l.revoked_at IS NULL;

-- appointment_details: `acting_user_ids` (new, last) is everyone acting for the appointment's
-- patient, from patients.acting_users; `patient_user_id` goes back to what 0006 made it, the
-- patient's own login (null for a relative without one): the "first proxy" rule is gone.
-- Same columns otherwise (CREATE OR REPLACE keeps scheduling.book_slot_audited's read).
CREATE OR REPLACE VIEW scheduling.appointment_details AS
SELECT a.id, a.doctor_id, a.patient_id, lower(a.period) AS start_at, upper(a.period) AS end_at,
       a.visit_type, a.status, a.reason_id, r.name AS reason_name, a.location, a.notes, a.fee,
       a.currency, a.hold_expires_at, a.cancelled_by, a.cancellation_reason, a.cancelled_at,
       a.created_at, a.updated_at, d.time_zone, d.user_id AS doctor_user_id,
       p.user_id AS patient_user_id,
       bl.proxy_user_id AS booked_by_user_id,
       bp.id AS booked_by_patient_id,
       bp.first_name || ' ' || bp.last_name AS booked_by_name,
       bl.relationship AS booked_by_relationship,
       ARRAY(SELECT x.user_id FROM patients.acting_users x
             WHERE x.patient_id = a.patient_id
             ORDER BY x.since, x.user_id) AS acting_user_ids
FROM scheduling.appointments a
JOIN doctors.doctors d ON d.id = a.doctor_id
JOIN patients.patients p ON p.id = a.patient_id
LEFT JOIN scheduling.visit_reasons r ON r.id = a.reason_id
LEFT JOIN patients.relatives bl ON bl.proxy_user_id = a.created_by AND bl.relative_id = a.patient_id
LEFT JOIN patients.patients bp ON bp.user_id = bl.proxy_user_id;
