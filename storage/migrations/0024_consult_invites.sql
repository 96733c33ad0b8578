-- A third participant in a teleconsultation (carer, interpreter, second clinician), invited by
-- one of its parties with a single-use link valid for that session only. docs/realtime.md,
-- "Third participant". Only the link's SHA-256 is kept: the link itself is shown once.
CREATE TABLE teleconsult.invites (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id    uuid NOT NULL REFERENCES teleconsult.sessions (id) ON DELETE CASCADE,
    token_hash    bytea NOT NULL UNIQUE,
    invited_by    uuid NOT NULL,
    created_at    timestamptz NOT NULL,
    -- pending: not used yet; waiting: the invitee is in the waiting room (the link is spent);
    -- admitted / refused by the doctor; revoked by a party before use.
    status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'waiting', 'admitted', 'refused', 'revoked')),
    -- Filled when the link is used: what the invitee said of themselves (and their account,
    -- when they were signed in).
    display_name  text CHECK (char_length(display_name) BETWEEN 1 AND 80),
    guest_role    text CHECK (guest_role IN ('carer', 'interpreter', 'clinician')),
    user_id       uuid,
    used_at       timestamptz,
    decided_at    timestamptz,
    decided_by    uuid
);
CREATE INDEX invites_session ON teleconsult.invites (session_id);

-- The call's third seat: one invitee socket per session, beside the patient's and the doctor's.
ALTER TABLE teleconsult.presence DROP CONSTRAINT presence_role_check;
ALTER TABLE teleconsult.presence ADD CONSTRAINT presence_role_check
    CHECK (role IN ('patient', 'doctor', 'guest'));
