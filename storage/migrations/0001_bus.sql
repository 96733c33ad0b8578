-- Extensions every domain relies on, and the bus schema: transactional outbox + consumer dedup.
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS cube;
CREATE EXTENSION IF NOT EXISTS earthdistance;
CREATE EXTENSION IF NOT EXISTS unaccent;

CREATE SCHEMA bus;

CREATE TABLE bus.outbox (
    seq          bigserial PRIMARY KEY,
    id           uuid NOT NULL UNIQUE,
    type         text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    actor        text,
    subject      text NOT NULL,
    data         jsonb NOT NULL,
    version      int NOT NULL,
    published_at timestamptz
);
CREATE INDEX outbox_unpublished ON bus.outbox (seq) WHERE published_at IS NULL;

-- Wake the relay at commit instead of waiting for its next poll.
CREATE FUNCTION bus.notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('bus_outbox', '');
    RETURN NULL;
END $$;
CREATE TRIGGER outbox_notify AFTER INSERT ON bus.outbox
    FOR EACH STATEMENT EXECUTE FUNCTION bus.notify_outbox();

CREATE TABLE bus.handled_events (
    consumer   text NOT NULL,
    event_id   uuid NOT NULL,
    handled_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
