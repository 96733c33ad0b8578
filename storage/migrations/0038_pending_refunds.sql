-- The refund sweeper (server/payments/reconcile.py) looks for refunds still pending after a
-- grace: a few rows among all refunds ever made.
CREATE INDEX refunds_pending ON payments.refunds (created_at) WHERE status = 'pending';
