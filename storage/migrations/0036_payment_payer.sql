-- Who paid (issue #24): a receipt belongs to the user who made the payment, not to everyone
-- acting for the patient. The account that called POST /payments: the patient in person or a
-- proxy paying for a relative. Null only for a payment nobody can be named for.
ALTER TABLE payments.payments ADD COLUMN payer_user_id uuid REFERENCES auth.users (id);

-- Payments made before: the proxy who booked the appointment (its author, linked to the
-- patient), else the patient's own login.
UPDATE payments.payments pay
SET payer_user_id = coalesce(
        (SELECT l.proxy_user_id FROM patients.relatives l
         WHERE l.proxy_user_id = a.created_by AND l.relative_id = a.patient_id LIMIT 1),
        p.user_id)
FROM scheduling.appointments a, patients.patients p
WHERE a.id = pay.appointment_id AND p.id = pay.patient_id;
