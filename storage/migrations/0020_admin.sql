-- Admin: step-up re-authentication per session (admin actions on health data need one in the
-- last 5 minutes), and the indexes the admin's user search and verification queue read.
ALTER TABLE auth.sessions ADD COLUMN reauthenticated_at timestamptz;
CREATE INDEX users_created ON auth.users (created_at DESC, id DESC);
CREATE INDEX doctors_verification_queue ON doctors.doctors (created_at, id)
    WHERE verification_status = 'unverified';

-- Private, revocable iCalendar feeds: one live secret URL per user (doctor agenda or patient
-- appointments). Only the token's hash is kept; rotating revokes the previous one.
CREATE SCHEMA calendar;
CREATE TABLE calendar.feeds (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    token_hash  text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE UNIQUE INDEX feeds_one_live_per_user ON calendar.feeds (user_id) WHERE revoked_at IS NULL;

-- Analytics read the appointments by booking day and by visit day over indexes (no rollup
-- tables): covering indexes keep each figure an index-only scan of the chosen range.
CREATE INDEX appointments_created_cover ON scheduling.appointments (created_at)
    INCLUDE (status, doctor_id, period);
CREATE INDEX appointments_start_cover ON scheduling.appointments (lower(period))
    INCLUDE (status, doctor_id, created_at);
CREATE INDEX appointments_doctor_created ON scheduling.appointments (doctor_id, created_at)
    INCLUDE (status);
