-- Audit appends leave the hash chain's lock (issue #19).
--
-- Before: a BEFORE INSERT trigger chained every row under the one-row chain head, so every
-- audited transaction in the system queued on that row until it ended. Now an append is a plain
-- INSERT (in the caller's transaction: the entry commits or rolls back with the change it
-- records) of an unsealed row (seq, prev_hash, hash NULL), and one sealer (server/audit/sealer.py,
-- one at a time across nodes under an advisory lock) chains the committed rows in batches:
--   seq = head.seq + 1, prev_hash = head.hash,
--   hash = hex(sha256(prev_hash || audit.canonical(row)))  (unchanged: old rows stay valid).
--
-- Order: append_id (a sequence) orders appends, but a row with a smaller append_id may commit
-- after one with a larger id. The sealer therefore never remembers "sealed up to append_id N":
-- each batch takes the rows it can see with seq IS NULL, in append_id order, and numbers them
-- after the head. A row that commits late is sealed by the next batch with a later seq; none is
-- skipped. The chain order (seq) is the order rows were sealed, i.e. became visible.
-- A crash between append and seal loses nothing: the committed rows wait unsealed for the next
-- sealer. Rows are immutable except for that one sealing update (audit.guard_update).

DROP TRIGGER logs_chain_append ON audit.logs;
DROP FUNCTION audit.chain_append();

ALTER TABLE audit.logs DISABLE TRIGGER logs_append_only;
CREATE SEQUENCE audit.logs_append_id_seq AS bigint;
ALTER TABLE audit.logs ADD COLUMN append_id bigint, ADD COLUMN sealed_at timestamptz;
UPDATE audit.logs SET append_id = seq, sealed_at = occurred_at;
SELECT setval('audit.logs_append_id_seq', COALESCE(max(append_id), 0) + 1, false) FROM audit.logs;
ALTER TABLE audit.logs ENABLE TRIGGER logs_append_only;
ALTER SEQUENCE audit.logs_append_id_seq OWNED BY audit.logs.append_id;
ALTER TABLE audit.logs
    ALTER COLUMN append_id SET DEFAULT nextval('audit.logs_append_id_seq'),
    ALTER COLUMN append_id SET NOT NULL,
    DROP CONSTRAINT logs_pkey,
    ADD PRIMARY KEY (append_id),
    ALTER COLUMN seq DROP NOT NULL,
    ALTER COLUMN prev_hash DROP NOT NULL,
    ALTER COLUMN hash DROP NOT NULL,
    ADD CONSTRAINT logs_seq_unique UNIQUE (seq),
    ADD CONSTRAINT logs_sealed_whole CHECK (
        (seq IS NULL) = (hash IS NULL) AND (seq IS NULL) = (prev_hash IS NULL)
        AND (seq IS NULL) = (sealed_at IS NULL));

-- The admin listing pages by append_id (unsealed rows are listed too).
DROP INDEX audit.logs_user;
DROP INDEX audit.logs_resource;
DROP INDEX audit.logs_action;
CREATE INDEX logs_user ON audit.logs (user_id, append_id);
CREATE INDEX logs_resource ON audit.logs (resource_type, resource_id, append_id);
CREATE INDEX logs_action ON audit.logs (action, append_id);
-- Small: only the rows waiting for the sealer.
CREATE INDEX logs_unsealed ON audit.logs (append_id) WHERE seq IS NULL;

-- An append cannot bring its own chain fields: only the sealer sets them.
CREATE FUNCTION audit.refuse_presealed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq IS NOT NULL OR NEW.prev_hash IS NOT NULL OR NEW.hash IS NOT NULL
       OR NEW.sealed_at IS NOT NULL THEN
        RAISE EXCEPTION 'audit.logs rows are appended unsealed: the sealer chains them'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER logs_insert_unsealed BEFORE INSERT ON audit.logs
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_presealed();

-- The one update allowed: sealing an unsealed row once, its content untouched.
CREATE FUNCTION audit.guard_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
       AND (OLD.append_id, OLD.id, OLD.occurred_at, OLD.user_id, OLD.role, OLD.action,
            OLD.resource_type, OLD.resource_id, OLD.ip_address, OLD.user_agent, OLD.request_id,
            OLD.request_payload, OLD.response_status)
           IS NOT DISTINCT FROM
           (NEW.append_id, NEW.id, NEW.occurred_at, NEW.user_id, NEW.role, NEW.action,
            NEW.resource_type, NEW.resource_id, NEW.ip_address, NEW.user_agent, NEW.request_id,
            NEW.request_payload, NEW.response_status) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
DROP TRIGGER logs_append_only ON audit.logs;
CREATE TRIGGER logs_append_only BEFORE UPDATE OR DELETE ON audit.logs
    FOR EACH ROW EXECUTE FUNCTION audit.guard_update();

-- The head now advances by a whole batch at once, still only forward.
CREATE OR REPLACE FUNCTION audit.refuse_head_rewrite() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.seq > OLD.seq THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit.chain_head only advances: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

-- Chain up to max_rows visible unsealed rows after the head, in append_id order; returns how
-- many. The caller holds the sealer's advisory lock; the head's row lock guards the chain anyway.
CREATE FUNCTION audit.seal(max_rows int, at timestamptz) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    head audit.chain_head;
    r audit.logs;
    sealed int := 0;
BEGIN
    SELECT * INTO head FROM audit.chain_head WHERE singleton FOR UPDATE;
    FOR r IN SELECT * FROM audit.logs WHERE seq IS NULL ORDER BY append_id LIMIT max_rows LOOP
        r.seq := head.seq + 1;
        r.prev_hash := head.hash;
        r.hash := encode(sha256(convert_to(r.prev_hash || audit.canonical(r), 'UTF8')), 'hex');
        UPDATE audit.logs SET seq = r.seq, prev_hash = r.prev_hash, hash = r.hash, sealed_at = at
            WHERE append_id = r.append_id;
        head.seq := r.seq;
        head.hash := r.hash;
        sealed := sealed + 1;
    END LOOP;
    IF sealed > 0 THEN
        UPDATE audit.chain_head SET seq = head.seq, hash = head.hash WHERE singleton;
    END IF;
    RETURN sealed;
END
$$;
