-- Accounts, server-side sessions with rotating refresh tokens, MFA, password resets.
CREATE SCHEMA auth;

CREATE TABLE auth.users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text NOT NULL,
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('patient', 'doctor', 'admin')),
    is_verified   boolean NOT NULL DEFAULT false,
    is_active     boolean NOT NULL DEFAULT true,
    mfa_enabled   boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON auth.users (lower(email));

-- One session per sign-in; it is also the refresh-token family: reuse revokes the session.
CREATE TABLE auth.sessions (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    token_hash   text NOT NULL,              -- hash of the current (latest) refresh token
    expires_at   timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    ip_address   text,
    user_agent   text
);
CREATE INDEX sessions_user ON auth.sessions (user_id);

-- Every refresh token ever issued, so a rotated one presented again is recognised as reuse.
CREATE TABLE auth.refresh_tokens (
    token_hash  text PRIMARY KEY,
    session_id  uuid NOT NULL REFERENCES auth.sessions (id) ON DELETE CASCADE,
    issued_at   timestamptz NOT NULL DEFAULT now(),
    rotated_at  timestamptz
);
CREATE INDEX refresh_tokens_session ON auth.refresh_tokens (session_id);

CREATE TABLE auth.mfa_secrets (
    user_id      uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
    secret       jsonb NOT NULL,             -- encrypted field: {"kid", "nonce", "ct"}
    confirmed_at timestamptz,
    -- TOTP time step of the last accepted code: a code is never accepted twice (replay).
    last_used_step bigint NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE auth.recovery_codes (
    user_id   uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    code_hash text NOT NULL,
    used_at   timestamptz,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE auth.password_resets (
    token_hash text PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX password_resets_user ON auth.password_resets (user_id) WHERE used_at IS NULL;

-- Outgoing messages; the notifications issue sends them (SMTP / Twilio), until then they wait here.
CREATE SCHEMA notify;
CREATE TABLE notify.outbox (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    channel    text NOT NULL CHECK (channel IN ('email', 'sms')),
    recipient  text NOT NULL,
    template   text NOT NULL,
    subject    text,
    body       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz
);
