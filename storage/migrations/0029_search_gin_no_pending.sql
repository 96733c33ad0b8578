-- Search reads its GIN indexes on every request (issue #19). With fastupdate (the default), the
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
