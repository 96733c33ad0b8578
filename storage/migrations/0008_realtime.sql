-- Realtime: consultation chat between an appointment's two parties, with read receipts.
-- Bodies are health data: stored encrypted (server.crypto field format {"kid","nonce","ct"}).
CREATE SCHEMA chat;

CREATE TABLE chat.messages (
    seq               bigserial PRIMARY KEY,      -- history order and pagination cursor
    id                uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    -- No FK: appointments belong to the scheduling domain; access is checked through its service.
    appointment_id    uuid NOT NULL,
    sender_user_id    uuid NOT NULL,
    -- Optional client-chosen id: a resend after a lost ack returns the stored message, no copy.
    client_message_id text,
    body              jsonb NOT NULL,             -- encrypted field
    created_at        timestamptz NOT NULL DEFAULT now(),
    -- Two parties per conversation, so one receipt per message: when the recipient read it.
    read_at           timestamptz,
    CONSTRAINT messages_client_id_unique UNIQUE (appointment_id, sender_user_id, client_message_id)
);
CREATE INDEX messages_appointment ON chat.messages (appointment_id, seq);
