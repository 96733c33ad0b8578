-- Search: a denormalised, search-ready copy of every verified doctor, kept current by the
-- search indexer from domain events (server/search/indexer.py). Unverified doctors are never here.
CREATE SCHEMA search;

-- unaccent() is only STABLE (it reads its dictionary through search_path); naming the dictionary
-- pins it, so this wrapper can be IMMUTABLE and used in generated columns and indexes.
CREATE FUNCTION search.fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN lower(public.unaccent('public.unaccent'::regdictionary, $1));

CREATE TABLE search.doctor_index (
    doctor_id               uuid PRIMARY KEY,            -- doctors.doctors (id)
    first_name              text NOT NULL,
    last_name               text NOT NULL,
    specializations         text[] NOT NULL,             -- codes
    specialization_names    text NOT NULL,               -- en + fr names: "cardio", "dermatologue"
    bio                     text NOT NULL,
    city                    text NOT NULL,
    postcode                text NOT NULL,
    country                 char(2) NOT NULL,
    latitude                double precision,
    longitude               double precision,
    location                earth,                       -- ll_to_earth(latitude, longitude)
    consultation_fee        int NOT NULL,                -- minor units
    currency                char(3) NOT NULL,
    rating                  numeric(3, 2) NOT NULL,
    total_reviews           int NOT NULL,
    languages               text[] NOT NULL,
    accepts_new_patients    boolean NOT NULL,
    profile_image_url       text,
    -- From scheduling (availability rules and free slots), refreshed on slot/appointment events.
    offers_in_person        boolean NOT NULL DEFAULT false,
    offers_teleconsultation boolean NOT NULL DEFAULT false,
    next_in_person          timestamptz,
    next_teleconsultation   timestamptz,
    next_available          timestamptz GENERATED ALWAYS AS
                            (least(next_in_person, next_teleconsultation)) STORED,
    -- scheduling.availability_versions.version as of the last read: older events are no news.
    availability_version    bigint NOT NULL DEFAULT 0,
    availability_checked_at timestamptz,
    indexed_at              timestamptz NOT NULL DEFAULT now(),
    -- Folded keys in byte order ("C"): btrees serve equality, prefix ranges and skip-scans.
    city_key                text COLLATE "C" GENERATED ALWAYS AS (search.fold(city)) STORED,
    first_key               text COLLATE "C" GENERATED ALWAYS AS (search.fold(first_name)) STORED,
    last_key                text COLLATE "C" GENERATED ALWAYS AS (search.fold(last_name)) STORED,
    -- Weights: A name, B specialties, C city, D bio ("exact name beats bio mention").
    document                tsvector GENERATED ALWAYS AS (
                                setweight(to_tsvector('simple',
                                    search.fold(first_name || ' ' || last_name)), 'A')
                                || setweight(to_tsvector('simple',
                                    search.fold(specialization_names)), 'B')
                                || setweight(to_tsvector('simple', search.fold(city)), 'C')
                                || setweight(to_tsvector('simple', search.fold(bio)), 'D')) STORED
);

CREATE INDEX doctor_index_document ON search.doctor_index USING gin (document);
CREATE INDEX doctor_index_city ON search.doctor_index (city_key);
-- Name suggestions rank a prefix's doctors by reviews from these alone (index-only scans).
CREATE INDEX doctor_index_last_name ON search.doctor_index (last_key)
    INCLUDE (first_key, total_reviews, doctor_id);
CREATE INDEX doctor_index_first_name ON search.doctor_index (first_key)
    INCLUDE (last_key, total_reviews, doctor_id);
CREATE INDEX doctor_index_postcode ON search.doctor_index (postcode text_pattern_ops);
CREATE INDEX doctor_index_specializations ON search.doctor_index USING gin (specializations);
CREATE INDEX doctor_index_location ON search.doctor_index USING gist (location);
-- The sweeper finds doctors whose next free slot has passed.
CREATE INDEX doctor_index_next_available ON search.doctor_index (next_available);

-- Every word of a name, specialty or city in the index (not bios): typos are corrected against
-- this small table with pg_trgm, then the search itself is a plain GIN full-text query. Trigram
-- matching over the doctors themselves costs a similarity per doctor row (seconds at 100,000).
-- Words are only added: a word nobody has any more just matches nothing.
CREATE TABLE search.words (
    word text COLLATE "C" PRIMARY KEY
);
CREATE INDEX words_trgm ON search.words USING gin (word gin_trgm_ops);
