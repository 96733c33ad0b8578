-- Analytics rollups (issue #23): platform-wide figures per UTC day (visits) and per UTC quarter
-- hour (bookings), so a year of figures reads a few thousand rows instead of the appointments.
-- Each row is the SQL over the appointments of its day or quarter hour, recomputed whole by the
-- "analytics" consumer (server/analytics/rollups.py) on each appointment event: a redelivery
-- recomputes the same row, and bus.handled_events skips it anyway. `markini analytics rebuild`
-- recomputes them all. A quarter hour cuts the days of every zone (offsets are multiples of 15
-- minutes), so bookings per local day read whole buckets.
CREATE SCHEMA IF NOT EXISTS analytics;

-- Appointments booked (created) in [bucket, bucket + 15 minutes); empty buckets have no row.
CREATE TABLE analytics.bookings_quarter (
    bucket   timestamptz PRIMARY KEY,
    bookings int NOT NULL CHECK (bookings > 0)
);

-- Appointments due (lower(period)) on a UTC day, by status family.
CREATE TABLE analytics.visits_daily (
    day       date PRIMARY KEY,
    total     int NOT NULL,
    cancelled int NOT NULL,
    held      int NOT NULL,
    no_show   int NOT NULL
);

-- Visits due (not cancelled) on a UTC day per doctor city ('' excluded) and per specialty of
-- the doctor (as the doctor's profile says now: a profile change recomputes the doctor's days).
CREATE TABLE analytics.visits_daily_city (
    day    date NOT NULL,
    city   text NOT NULL,
    visits int NOT NULL,
    PRIMARY KEY (day, city)
);
CREATE TABLE analytics.visits_daily_specialty (
    day    date NOT NULL,
    code   text NOT NULL,
    visits int NOT NULL,
    PRIMARY KEY (day, code)
);

-- Lead times (microseconds from booking to visit, exact) of the visits due on a UTC day, not
-- cancelled, with how many visits had each: exact mean, median and 90th percentile over any
-- range of days.
CREATE TABLE analytics.lead_daily (
    day    date NOT NULL,
    micros bigint NOT NULL,
    visits int NOT NULL,
    PRIMARY KEY (day, micros)
);

-- The same per UTC calendar month, kept with lead_daily in the same statements (the month is
-- locked meanwhile): a year of lead times reads twelve months of them, not 365 days.
CREATE TABLE analytics.lead_monthly (
    month  date NOT NULL,
    micros bigint NOT NULL,
    visits int NOT NULL,
    PRIMARY KEY (month, micros)
);

-- Existing appointments, rolled up once here (what `markini analytics rebuild` does), so the
-- figures are right from the first start after this migration.
INSERT INTO analytics.bookings_quarter (bucket, bookings)
SELECT date_bin('15 minutes', created_at, '2000-01-01 00:00:00+00'), count(*)
FROM scheduling.appointments GROUP BY 1;
INSERT INTO analytics.visits_daily (day, total, cancelled, held, no_show)
SELECT (lower(period) AT TIME ZONE 'UTC')::date, count(*),
       count(*) FILTER (WHERE status = 'cancelled'), count(*) FILTER (WHERE status = 'held'),
       count(*) FILTER (WHERE status = 'no-show')
FROM scheduling.appointments GROUP BY 1;
INSERT INTO analytics.visits_daily_city (day, city, visits)
SELECT (lower(a.period) AT TIME ZONE 'UTC')::date, d.city, count(*)
FROM scheduling.appointments a JOIN doctors.doctors d ON d.id = a.doctor_id
WHERE a.status <> 'cancelled' AND d.city <> '' GROUP BY 1, 2;
INSERT INTO analytics.visits_daily_specialty (day, code, visits)
SELECT (lower(a.period) AT TIME ZONE 'UTC')::date, s.code, count(*)
FROM scheduling.appointments a JOIN doctors.doctors d ON d.id = a.doctor_id
CROSS JOIN LATERAL unnest(d.specializations) AS s(code)
WHERE a.status <> 'cancelled' GROUP BY 1, 2;
INSERT INTO analytics.lead_daily (day, micros, visits)
SELECT (lower(a.period) AT TIME ZONE 'UTC')::date,
       (extract(epoch FROM lower(a.period) - a.created_at) * 1000000)::bigint, count(*)
FROM scheduling.appointments a WHERE a.status <> 'cancelled' GROUP BY 1, 2;
INSERT INTO analytics.lead_monthly (month, micros, visits)
SELECT date_trunc('month', day)::date, micros, sum(visits) FROM analytics.lead_daily GROUP BY 1, 2;
