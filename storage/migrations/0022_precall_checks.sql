-- Pre-call checks: what each party's waiting-room check found (devices, the round trip and
-- throughput to the server, the plain verdict), one per party and session, the latest kept,
-- for the doctor to see before admitting. docs/realtime.md, "Pre-call check".
CREATE TABLE teleconsult.precall_checks (
    session_id      uuid NOT NULL REFERENCES teleconsult.sessions (id) ON DELETE CASCADE,
    role            text NOT NULL CHECK (role IN ('patient', 'doctor')),
    user_id         uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    verdict         text NOT NULL CHECK (verdict IN ('good', 'audio_only', 'cannot_connect')),
    camera          text NOT NULL CHECK (camera IN ('ok', 'denied', 'missing', 'error')),
    microphone      text NOT NULL CHECK (microphone IN ('ok', 'denied', 'missing', 'error')),
    rtt_ms          integer CHECK (rtt_ms >= 0),           -- NULL: the server was unreachable
    throughput_kbps integer CHECK (throughput_kbps >= 0),
    checked_at      timestamptz NOT NULL,
    PRIMARY KEY (session_id, role)
);
