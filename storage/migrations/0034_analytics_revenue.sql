-- Revenue rollup (issue #23): payments taken per UTC quarter hour of their completion and per
-- currency, net of the refunds that went through, so a year of platform revenue reads a few
-- thousand rows instead of the payments. Like bookings_quarter (0026), a quarter hour cuts the
-- days of every zone. Each row is the SQL over the payments completed in its quarter hour,
-- recomputed whole by the "analytics" consumer (server/analytics/rollups.py) on
-- payment.completed and payment.refunded: a redelivery or a late event recomputes the same row.
CREATE TABLE analytics.revenue_quarter (
    bucket   timestamptz NOT NULL,
    currency text NOT NULL,
    payments int NOT NULL CHECK (payments > 0),   -- completed (a day with only refunded ones shows 0)
    net      bigint NOT NULL,                     -- minor units: amounts less succeeded refunds
    PRIMARY KEY (bucket, currency)
);

-- Payments already taken, rolled up once here (what `markini analytics rebuild` does): the
-- consumer acknowledged their events before it knew them.
INSERT INTO analytics.revenue_quarter (bucket, currency, payments, net)
SELECT date_bin('15 minutes', p.completed_at, '2000-01-01 00:00:00+00'), p.currency, count(*),
       sum(p.amount - coalesce((SELECT sum(r.amount) FROM payments.refunds r
                                 WHERE r.payment_id = p.id AND r.status = 'succeeded'), 0))
FROM payments.payments p WHERE p.completed_at IS NOT NULL GROUP BY 1, 2;
