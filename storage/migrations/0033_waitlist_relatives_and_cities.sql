-- Waitlist leftovers of issues #22 and #24: a proxy puts a relative on the waitlist, and city
-- entries match a doctor's city whatever its case and accents.

-- The proxy who joined for a relative (patients.relatives); null when the patient joined
-- themself. Offers go to this account, and only while its link to the patient is live.
ALTER TABLE waitlist.entries
    ADD COLUMN proxy_user_id uuid REFERENCES auth.users (id),
    -- The city in search's one folding (storage/search/folding.py `fold`, written by
    -- storage/waitlist.py): compared with the doctor's city folded the same way.
    ADD COLUMN city_key text;

-- Entries made before this migration: an SQL approximation of `fold` (as 0015 did for the
-- search index); the entries it approximates end with their window, new ones are exact.
UPDATE waitlist.entries
SET city_key = btrim(regexp_replace(
        lower(public.unaccent('public.unaccent'::regdictionary, normalize(city, NFC))),
        '[^[:alnum:]]+', ' ', 'g'))
WHERE city IS NOT NULL;
