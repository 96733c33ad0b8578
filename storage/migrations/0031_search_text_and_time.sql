-- Text search bounded in time ("free within N days", issue #19), one GIN for both. With only a
-- btree on the next slot, a text search sorted by next available walked that btree in order and
-- tested the text on every doctor free in time: when many share the next slot the planner
-- cannot tell how far it must walk (bench/search.py: 4,746 doctors read for 98 matches, ~1,200
-- buffers). btree_gin puts the earliest slot beside the text, so the two meet in the index and
-- only the matches are read (~180 buffers); the query adds `next_available <= bound`, implied
-- by the bound on the visit type's slot. Only doctors with a slot are in it; entries go
-- straight into the index (no pending list, as migration 0029 explains).
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE INDEX doctor_index_document_next ON search.doctor_index
    USING gin (document, next_available) WITH (fastupdate = off)
    WHERE next_available IS NOT NULL;
