-- Secrets never rest in plaintext in the outbox. A message that carries one (a password-reset
-- link) keeps no body: its template's parameters sit in `params`, the secret encrypted with the
-- field cipher, and the sender renders the text at send time (server/notifications/render.py).
ALTER TABLE notify.outbox ALTER COLUMN body DROP NOT NULL;
ALTER TABLE notify.outbox ADD COLUMN params jsonb NOT NULL DEFAULT '{}';
ALTER TABLE notify.outbox ADD CONSTRAINT outbox_body_or_params
    CHECK (body IS NOT NULL OR params <> '{}'::jsonb);
-- Reset emails queued before this hold their link in clear. Nothing has sent them (no sender
-- exists yet) and their links expire within the hour: drop them rather than keep the links.
DELETE FROM notify.outbox WHERE template = 'password-reset';
