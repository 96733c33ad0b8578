-- Teleconsultation: one video session per teleconsultation appointment, who is in its call,
-- and the recording consents. Media never passes through the server (peer to peer), except
-- for the optional recorder.
CREATE SCHEMA teleconsult;

CREATE TABLE teleconsult.sessions (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- No FK: appointments belong to the scheduling domain (read through its service).
    appointment_id      uuid NOT NULL UNIQUE,
    doctor_id           uuid NOT NULL,
    -- The call's room name: unguessable (secrets.token_urlsafe), never derived from ids.
    room_id             text NOT NULL UNIQUE,
    status              text NOT NULL DEFAULT 'scheduled'
                        CHECK (status IN ('scheduled', 'active', 'completed', 'failed')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    -- The doctor let the patient in: the consultation began (status active); a patient who
    -- rejoins a started session goes straight in.
    started_at          timestamptz,
    ended_at            timestamptz,
    duration_s          integer CHECK (duration_s >= 0),
    ended_by            uuid,
    end_reason          text,
    -- Recording needs both parties' consent, each recorded with its instant.
    patient_consent_at  timestamptz,
    doctor_consent_at   timestamptz,
    recording_path      text,
    recording_url       text,
    CHECK ((status IN ('completed', 'failed')) = (ended_at IS NOT NULL))
);
CREATE INDEX sessions_open ON teleconsult.sessions (status) WHERE status IN ('scheduled', 'active');

-- Who is in a session's call right now: one socket per role (a newer socket replaces an older
-- one, e.g. after a reconnect). Shared by every node so signaling reaches the right socket.
CREATE TABLE teleconsult.presence (
    session_id   uuid NOT NULL REFERENCES teleconsult.sessions (id) ON DELETE CASCADE,
    role         text NOT NULL CHECK (role IN ('patient', 'doctor')),
    user_id      uuid NOT NULL,
    sid          text NOT NULL,
    -- A patient present before the session started is in the waiting room.
    joined_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, role)
);
