-- Issue #22, second part: cancellation policy per visit reason (a reason required to cancel,
-- pay-at-visit reasons), prepayment above a no-show threshold, and waiting for any doctor of a
-- specialty in a city or within a radius of a point.

-- When a patient must say why they cancel: never, only after the refund cut-off, or always.
ALTER TABLE scheduling.visit_reasons
    ADD COLUMN cancel_reason_required text NOT NULL DEFAULT 'never'
        CHECK (cancel_reason_required IN ('never', 'late', 'always')),
    -- Paid at the visit even when online payment is on (unless the practice requires
    -- prepayment of this patient: waitlist.practice_settings.prepay_no_show_threshold).
    ADD COLUMN pay_at_visit boolean NOT NULL DEFAULT false;

-- Patients with at least this many no-shows with the practice pay when booking; null: never.
ALTER TABLE waitlist.practice_settings
    ADD COLUMN prepay_no_show_threshold int CHECK (prepay_no_show_threshold BETWEEN 1 AND 100);

-- An entry waits for one doctor, or for any doctor of a specialty in a city or near a point.
ALTER TABLE waitlist.entries
    ALTER COLUMN doctor_id DROP NOT NULL,
    ADD COLUMN specialty text,
    ADD COLUMN city text,
    ADD COLUMN latitude double precision CHECK (latitude BETWEEN -90 AND 90),
    ADD COLUMN longitude double precision CHECK (longitude BETWEEN -180 AND 180),
    ADD COLUMN radius_km double precision CHECK (radius_km > 0 AND radius_km <= 500),
    ADD CONSTRAINT entries_target CHECK (
        (doctor_id IS NOT NULL AND specialty IS NULL)
        OR (doctor_id IS NULL AND specialty IS NOT NULL
            AND (city IS NOT NULL
                 OR (latitude IS NOT NULL AND longitude IS NOT NULL AND radius_km IS NOT NULL))));
-- The fair order over area entries (the doctor's own use entries_waiting).
CREATE INDEX entries_area_waiting ON waitlist.entries (specialty, created_at, id)
    WHERE status = 'waiting' AND doctor_id IS NULL;
-- A patient waits once per specialty and visit type (beside once per doctor).
CREATE UNIQUE INDEX entries_one_per_specialty ON waitlist.entries (patient_id, specialty, visit_type)
    WHERE status IN ('waiting', 'offered') AND doctor_id IS NULL;

-- An area entry may be offered the same start at two doctors: once per doctor and slot.
DROP INDEX waitlist.offers_once_per_entry_slot;
CREATE UNIQUE INDEX offers_once_per_entry_doctor_slot
    ON waitlist.offers (entry_id, doctor_id, start_at);
