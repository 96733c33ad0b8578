-- Who acts for a patient excludes accounts that cannot act: a suspended or erased account
-- (auth.users.is_active false) signs in nowhere and is sent nothing (notifications read active
-- accounts only), so counting it let a proxy's removal pass as "someone else still acts" and
-- the patient's visits then reached nobody. One definition for every reader: the removal's
-- check, the chat and call (appointment_details.acting_user_ids) and the notifications.
-- Same columns as 0035 (CREATE OR REPLACE keeps appointment_details' read of it).
CREATE OR REPLACE VIEW patients.acting_users AS
SELECT p.id AS patient_id, p.user_id, 'self' AS via, p.created_at AS since
FROM patients.patients p
JOIN auth.users u ON u.id = p.user_id AND u.is_active
UNION ALL
SELECT l.relative_id, l.proxy_user_id, 'proxy', l.created_at
FROM patients.relatives l
JOIN auth.users u ON u.id = l.proxy_user_id AND u.is_active
WHERE l.revoked_at IS NULL;
