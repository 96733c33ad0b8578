-- Notifications: preferences, appointment reminders, the delivery log of every message, the
-- in-app bell, the dev mailbox (the embedded email/SMS provider) and one-time MFA codes.
-- Design: server/notifications/__init__.py.

-- Per user: language, time zone and phone for messages, and which channels to use. No row: the
-- defaults (English, the doctor's zone, every channel on, the patient profile's phone).
CREATE TABLE notify.preferences (
    user_id    uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
    language   text NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'fr')),
    time_zone  text,                                  -- IANA name; NULL: the doctor's
    phone      text CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),  -- E.164
    email      boolean NOT NULL DEFAULT true,
    sms        boolean NOT NULL DEFAULT true,
    in_app     boolean NOT NULL DEFAULT true,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- A doctor's (practice's) reminder offsets, minutes before the start; whole days are counted
-- in calendar days of the doctor's zone (same wall-clock time), the rest in elapsed time.
CREATE TABLE notify.reminder_settings (
    doctor_id       uuid PRIMARY KEY REFERENCES doctors.doctors (id),
    offsets_minutes int[] NOT NULL CHECK (cardinality(offsets_minutes) <= 4),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- One row per appointment and offset. Claimed with FOR UPDATE SKIP LOCKED: one node sends it.
CREATE TABLE notify.reminders (
    appointment_id uuid NOT NULL,
    offset_minutes int NOT NULL CHECK (offset_minutes > 0),
    due_at         timestamptz NOT NULL,
    starts_at      timestamptz NOT NULL,
    status         text NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'sent', 'skipped', 'cancelled')),
    done_at        timestamptz,
    note           text,
    PRIMARY KEY (appointment_id, offset_minutes)
);
CREATE INDEX reminders_due ON notify.reminders (due_at) WHERE status = 'pending';

-- The delivery log: one row per (cause, recipient, channel), so a redelivered event or a
-- reclaimed reminder cannot queue the same message twice (dedup_key).
CREATE TABLE notify.messages (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    dedup_key       text NOT NULL UNIQUE,
    user_id         uuid,
    kind            text NOT NULL,
    channel         text NOT NULL CHECK (channel IN ('email', 'sms')),
    recipient       text NOT NULL,
    subject         text,
    body            text NOT NULL,
    calendar        text,                              -- RFC 5545 attachment, if any
    appointment_id  uuid,
    reference       text,                              -- SMS reminders: the code to reply with
    status          text NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'unconfirmed')),
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    claimed_at      timestamptz,
    provider_id     text,
    last_error      text,
    created_at      timestamptz NOT NULL,
    sent_at         timestamptz
);
CREATE INDEX messages_due ON notify.messages (next_attempt_at) WHERE status = 'queued';
CREATE INDEX messages_sending ON notify.messages (claimed_at) WHERE status = 'sending';
CREATE INDEX messages_user ON notify.messages (user_id, created_at DESC);
-- Two-way SMS: a reply names its reminder's reference (else the latest reminder to that number).
CREATE INDEX messages_sms_reminders ON notify.messages (recipient, created_at DESC)
    WHERE channel = 'sms' AND reference IS NOT NULL;

-- The bell: in-app notifications, kept so history and unread counts survive a reload.
CREATE TABLE notify.in_app (
    id         uuid PRIMARY KEY,
    dedup_key  text NOT NULL UNIQUE,
    user_id    uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    kind       text NOT NULL,
    title      text NOT NULL,
    body       text NOT NULL DEFAULT '',
    data       jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    read_at    timestamptz
);
CREATE INDEX in_app_user ON notify.in_app (user_id, created_at DESC);
CREATE INDEX in_app_unread ON notify.in_app (user_id) WHERE read_at IS NULL;

-- iCalendar SEQUENCE per appointment: each update or cancel of the event bumps it.
CREATE TABLE notify.calendar_sequences (
    appointment_id uuid PRIMARY KEY,
    sequence       int NOT NULL DEFAULT 0
);

-- The embedded provider: email and SMS land here (admin page) when no SMTP / Twilio is set.
CREATE TABLE notify.dev_mailbox (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    message_id  uuid NOT NULL UNIQUE,  -- notify.messages or notify.outbox (auth messages)
    kind        text NOT NULL,
    channel     text NOT NULL,
    recipient   text NOT NULL,
    subject     text,
    body        text NOT NULL,
    calendar    text,
    received_at timestamptz NOT NULL
);
CREATE INDEX dev_mailbox_received ON notify.dev_mailbox (received_at DESC);

-- One-time MFA codes sent by email or SMS (besides TOTP); only a hash is kept.
CREATE TABLE notify.otp_codes (
    user_id    uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
    code_hash  text NOT NULL,
    channel    text NOT NULL CHECK (channel IN ('email', 'sms')),
    expires_at timestamptz NOT NULL,
    attempts   int NOT NULL DEFAULT 0
);

-- Inbound SMS already answered, by Twilio's MessageSid: a retried webhook gets the same answer
-- and acts once.
CREATE TABLE notify.sms_replies (
    message_sid text PRIMARY KEY,
    answer      text NOT NULL,
    received_at timestamptz NOT NULL
);

-- The auth outbox (password resets, ...) is sent by the same worker: recorded there too.
ALTER TABLE notify.outbox ADD COLUMN attempts int NOT NULL DEFAULT 0;
ALTER TABLE notify.outbox ADD COLUMN last_error text;
CREATE INDEX outbox_unsent ON notify.outbox (created_at) WHERE sent_at IS NULL;
