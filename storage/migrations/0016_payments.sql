-- Payments (issue #20): PaymentIntents per held appointment, refunds, Stripe webhook events
-- handled once, and invoices numbered without gaps per practice (doctor) and year.
CREATE SCHEMA payments;

-- Cancellation policy of a visit reason: a patient who cancels before the cut-off gets the whole
-- fee back, later only `late_refund_percent` of it (doctor or admin cancellations refund in full).
ALTER TABLE scheduling.visit_reasons
    ADD COLUMN refund_cutoff_hours int NOT NULL DEFAULT 48 CHECK (refund_cutoff_hours >= 0),
    ADD COLUMN late_refund_percent int NOT NULL DEFAULT 50
        CHECK (late_refund_percent BETWEEN 0 AND 100);

CREATE TABLE payments.payments (
    id                  uuid PRIMARY KEY,
    appointment_id      uuid NOT NULL REFERENCES scheduling.appointments (id),
    patient_id          uuid NOT NULL REFERENCES patients.patients (id),
    doctor_id           uuid NOT NULL REFERENCES doctors.doctors (id),
    amount              int NOT NULL CHECK (amount > 0),          -- minor units
    currency            text NOT NULL,                            -- ISO 4217, lower case
    status              text NOT NULL
                        CHECK (status IN ('pending', 'completed', 'failed', 'refunded')),
    amount_refunded     int NOT NULL DEFAULT 0,
    payment_method      text,
    transaction_id      text UNIQUE,                              -- the Stripe PaymentIntent id
    failure_code        text,
    failure_message     text,
    -- The policy in force when the patient paid: a later change does not alter this payment.
    refund_cutoff_hours int NOT NULL,
    late_refund_percent int NOT NULL,
    language            text NOT NULL DEFAULT 'en',               -- of the invoice
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    completed_at        timestamptz,
    CONSTRAINT payments_refund_within_amount
        CHECK (amount_refunded >= 0 AND amount_refunded <= amount)
);
-- At most one attempt in flight per appointment (a paid appointment refuses new attempts; a
-- second charge, only possible from an attempt lost in an outage, is refunded at once).
CREATE UNIQUE INDEX payments_one_live_per_appointment ON payments.payments (appointment_id)
    WHERE status = 'pending';
CREATE INDEX payments_patient ON payments.payments (patient_id, created_at DESC, id);
CREATE INDEX payments_doctor ON payments.payments (doctor_id, created_at DESC, id);
CREATE INDEX payments_completed_day ON payments.payments (completed_at) WHERE completed_at IS NOT NULL;

CREATE TABLE payments.refunds (
    id               uuid PRIMARY KEY,
    payment_id       uuid NOT NULL REFERENCES payments.payments (id),
    amount           int NOT NULL CHECK (amount > 0),
    reason           text NOT NULL,
    -- What asked for it (a cancellation, a lost slot, an API call's Idempotency-Key): one refund
    -- per cause however often the cause is delivered or retried.
    request_key      text NOT NULL,
    status           text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    stripe_refund_id text UNIQUE,
    created_by       text,
    created_at       timestamptz NOT NULL,
    UNIQUE (payment_id, request_key)
);

-- Stripe event ids already applied: each delivery of one event acts once.
CREATE TABLE payments.webhook_events (
    id          text PRIMARY KEY,
    type        text NOT NULL,
    received_at timestamptz NOT NULL
);

CREATE TABLE payments.invoice_counters (
    doctor_id uuid NOT NULL REFERENCES doctors.doctors (id),
    year      int NOT NULL,
    last      int NOT NULL,
    PRIMARY KEY (doctor_id, year)
);

CREATE TABLE payments.invoices (
    id             uuid PRIMARY KEY,
    payment_id     uuid NOT NULL UNIQUE REFERENCES payments.payments (id),
    doctor_id      uuid NOT NULL REFERENCES doctors.doctors (id),
    year           int NOT NULL,
    seq            int NOT NULL,
    invoice_number text NOT NULL UNIQUE,
    created_at     timestamptz NOT NULL,
    UNIQUE (doctor_id, year, seq)
);
