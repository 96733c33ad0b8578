-- Search (issue #19): GIN indexes without a pending list, and btrees for the result window.
--
-- Search reads its GIN indexes on every request. With fastupdate (the default), the
-- entries of each row the indexer writes wait in a pending list that every search scans in full
-- until a vacuum merges it (up to gin_pending_list_limit, 4 MB): 3,000 changed doctors left 132
-- pending pages, adding ~1 ms to each text search at 100,000 doctors. Entries now go straight
-- into the index: an event's write costs a few more microseconds, a bulk reindex ~60% more index
-- work (20,000 rows rewritten: 1.0 -> 1.6 s); the list left now is merged.
ALTER INDEX search.doctor_index_document SET (fastupdate = off);
ALTER INDEX search.doctor_index_specializations SET (fastupdate = off);
ALTER INDEX search.words_trgm SET (fastupdate = off);
SELECT gin_clean_pending_list(i::regclass)
FROM unnest(ARRAY['search.doctor_index_document', 'search.doctor_index_specializations',
                  'search.words_trgm']) AS i;

-- A search reads at most its result window (storage/search/base.py RESULT_WINDOW) in the page's
-- order where an index yields it: for "best rated" (also the order of a search without text)
-- and "lowest fee", these walk the doctors in that order, ties broken as the page breaks them,
-- so the window holds the best 1,000 however many match.
CREATE INDEX doctor_index_rating
    ON search.doctor_index (rating DESC, total_reviews DESC, doctor_id);
CREATE INDEX doctor_index_fee
    ON search.doctor_index (consultation_fee, rating DESC, total_reviews DESC, doctor_id);
