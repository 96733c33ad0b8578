-- Audit trail: append-only, hash-chained log of mutating requests and reads of health data.
--
-- The chain is kept by the database itself (a BEFORE INSERT trigger), so every insert, whatever
-- code path makes it, joins the chain: it takes the one-row chain head FOR UPDATE (appends are
-- serialised until the inserting transaction ends, so the chain never forks), numbers the row
-- seq = head.seq + 1 (contiguous: a deleted row leaves a gap) and sets
--   hash = hex(sha256(prev_hash || audit.canonical(row)))
-- where canonical is the jsonb text of the row's fields without prev_hash and hash.
-- `markini audit verify` (server.audit.service.verify_chain) recomputes it in Python.
CREATE SCHEMA audit;

-- 64 zeros: the prev_hash of the first row.
CREATE TABLE audit.chain_head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq       bigint NOT NULL,
    hash      text NOT NULL
);
INSERT INTO audit.chain_head (singleton, seq, hash) VALUES (true, 0, repeat('0', 64));

CREATE TABLE audit.logs (
    seq             bigint PRIMARY KEY,           -- set by the trigger: 1, 2, 3... no gaps
    id              uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    occurred_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    user_id         uuid,                         -- no FK: the trail outlives user deletion
    role            text,
    action          text NOT NULL,                -- "POST /api/v1/x/{id}" or "medical_history.read"
    resource_type   text,
    resource_id     text,
    ip_address      text,
    user_agent      text,
    request_id      text,
    request_payload jsonb,                        -- secrets and health fields masked
    response_status int,
    prev_hash       text NOT NULL,
    hash            text NOT NULL
);
CREATE INDEX logs_user ON audit.logs (user_id, seq);
CREATE INDEX logs_resource ON audit.logs (resource_type, resource_id, seq);
CREATE INDEX logs_action ON audit.logs (action, seq);
CREATE INDEX logs_occurred_at ON audit.logs (occurred_at);

-- Timestamps are rendered in UTC explicitly: jsonb would follow the session's TimeZone.
CREATE FUNCTION audit.canonical(r audit.logs) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'seq', r.seq,
        'id', r.id,
        'occurred_at', to_char(r.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'user_id', r.user_id,
        'role', r.role,
        'action', r.action,
        'resource_type', r.resource_type,
        'resource_id', r.resource_id,
        'ip_address', r.ip_address,
        'user_agent', r.user_agent,
        'request_id', r.request_id,
        'request_payload', r.request_payload,
        'response_status', r.response_status
    )::text
$$;

CREATE FUNCTION audit.chain_append() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    head audit.chain_head;
BEGIN
    SELECT * INTO head FROM audit.chain_head WHERE singleton FOR UPDATE;
    NEW.seq := head.seq + 1;
    NEW.prev_hash := head.hash;
    NEW.hash := encode(sha256(convert_to(NEW.prev_hash || audit.canonical(NEW), 'UTF8')), 'hex');
    UPDATE audit.chain_head SET seq = NEW.seq, hash = NEW.hash WHERE singleton;
    RETURN NEW;
END
$$;

CREATE FUNCTION audit.refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

-- The head only moves forward one step at a time, as chain_append does.
CREATE FUNCTION audit.refuse_head_rewrite() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.seq = OLD.seq + 1 THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit.chain_head only advances: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER logs_chain_append BEFORE INSERT ON audit.logs
    FOR EACH ROW EXECUTE FUNCTION audit.chain_append();
CREATE TRIGGER logs_append_only BEFORE UPDATE OR DELETE ON audit.logs
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER logs_no_truncate BEFORE TRUNCATE ON audit.logs
    FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER chain_head_forward_only BEFORE UPDATE OR DELETE ON audit.chain_head
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_head_rewrite();
CREATE TRIGGER chain_head_no_truncate BEFORE TRUNCATE ON audit.chain_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();
