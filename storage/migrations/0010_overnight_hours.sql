-- Opening hours may end at midnight or cross it (night practices, on-call): a window whose end is
-- at or before its start ends on the next day (server/scheduling/grid.py). Midnight is stored as
-- 00:00, never as PostgreSQL's 24:00, so every stored time reads back as a Python time.
ALTER TABLE scheduling.weekly_rules DROP CONSTRAINT weekly_rules_check;
ALTER TABLE scheduling.weekly_rules
    ADD CONSTRAINT weekly_rules_times_in_day CHECK (start_time < '24:00' AND end_time < '24:00');
ALTER TABLE scheduling.date_exceptions DROP CONSTRAINT date_exceptions_check2;
ALTER TABLE scheduling.date_exceptions
    ADD CONSTRAINT date_exceptions_times_in_day
    CHECK (start_time IS NULL OR (start_time < '24:00' AND end_time < '24:00'));
