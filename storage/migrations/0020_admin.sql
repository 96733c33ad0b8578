-- Admin: step-up re-authentication per session (admin actions on health data need one in the
-- last 5 minutes), and the indexes the admin's user search and verification queue read.
ALTER TABLE auth.sessions ADD COLUMN reauthenticated_at timestamptz;
CREATE INDEX users_created ON auth.users (created_at DESC, id DESC);
CREATE INDEX doctors_verification_queue ON doctors.doctors (created_at, id)
    WHERE verification_status = 'unverified';
