-- Idempotency keys of state-changing API requests (the IETF draft "The Idempotency-Key HTTP
-- Header Field", Stripe's behaviour): the first answer to a (caller, key) is kept for a day and
-- replayed to a repeat of the same request. Not a domain: the HTTP layer's own table, in `api`.
CREATE SCHEMA api;

CREATE TABLE api.idempotency_keys (
    -- Whose key: 'user:<uuid>' (keys of different callers never collide).
    scope             text NOT NULL,
    key               text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    -- The request's fingerprint: a repeat must match all three.
    request_method    text NOT NULL,
    request_path      text NOT NULL,
    request_sha256    bytea NOT NULL,
    -- While the first request runs: its claim, held until locked_until (then a repeat may take
    -- over: the node that claimed it died). Both NULL once the answer is stored.
    lock_id           uuid,
    locked_until      timestamptz,
    -- The stored answer (NULL while in flight). Bodies may carry health data (notes, history):
    -- encrypted like every such field ({kid, nonce, ct}, server.crypto), bound to scope and key.
    response_status   smallint,
    response_headers  jsonb,
    response_body     jsonb,
    -- Instants come from the server's clock (server.clock), never from now() here.
    created_at        timestamptz NOT NULL,
    expires_at        timestamptz NOT NULL,
    PRIMARY KEY (scope, key),
    CHECK ((lock_id IS NULL) = (response_status IS NOT NULL))
);
CREATE INDEX idempotency_keys_expiry ON api.idempotency_keys (expires_at);
