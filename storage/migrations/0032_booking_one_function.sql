-- scheduling.book_slot_audited books by itself (issue #19): the body of scheduling.book_slot
-- (migration 0030) inline, instead of a nested function called through RETURN QUERY SELECT *
-- FROM scheduling.book_slot(...). The nested call cost a second PL/pgSQL frame, a function
-- scan and a tuple store for the one row, on every booking; and the free check is now the
-- INSERT's own condition (INSERT ... SELECT ... WHERE NOT EXISTS) rather than a statement of
-- its own before it: one statement's start-up less. Nothing else calls scheduling.book_slot,
-- so it is dropped. Same checks, same order, same errors: per-slot try-lock, the doctor's
-- version bump under its row lock, the stamp check, the free check (in a statement that starts
-- once the lock is held) and the INSERT under both exclusion constraints, the outbox events in
-- order, and the audit entry in the same statement, refused under MKA01 when it cannot be
-- written (fail closed).
DROP FUNCTION scheduling.book_slot_audited(
    uuid, uuid, uuid, timestamptz, timestamptz, text, text, uuid, text, jsonb, int, text,
    timestamptz, uuid, uuid, interval, jsonb, jsonb, timestamptz);
DROP FUNCTION scheduling.book_slot(
    uuid, uuid, uuid, timestamptz, timestamptz, text, text, uuid, text, jsonb, int, text,
    timestamptz, uuid, uuid, interval, jsonb, timestamptz);

CREATE FUNCTION scheduling.book_slot_audited(
    p_id uuid, p_doctor_id uuid, p_patient_id uuid, p_start timestamptz, p_end timestamptz,
    p_visit_type text, p_status text, p_reason_id uuid, p_location text, p_notes jsonb,
    p_fee int, p_currency text, p_hold_expires_at timestamptz, p_created_by uuid,
    p_rules_stamp uuid, p_buffer interval, p_events jsonb, p_audit jsonb, p_now timestamptz
) RETURNS TABLE (
    id uuid, doctor_id uuid, patient_id uuid, start_at timestamptz, end_at timestamptz,
    visit_type text, status text, reason_id uuid, reason_name text, location text, notes jsonb,
    fee int, currency char(3), hold_expires_at timestamptz, cancelled_by text,
    cancellation_reason text, cancelled_at timestamptz, created_at timestamptz,
    updated_at timestamptz, time_zone text, doctor_user_id uuid, patient_user_id uuid,
    availability_version bigint
) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_version bigint;
    v_stamp uuid;
    v_created boolean;
BEGIN
    -- A rush for one slot: whoever holds the slot's lock (until its commit) is booking it, and
    -- the others are refused at once rather than queueing one by one on the doctor's lock only
    -- to find the slot taken. Should the holder fail after all, the slot stays free (its
    -- watchers never saw it taken) and a retry gets it. Two-int keys, a space of their own.
    IF NOT pg_try_advisory_xact_lock(hashtext(p_doctor_id::text),
                                     floor(extract(epoch FROM p_start) / 60)::int) THEN
        RAISE EXCEPTION 'the slot is being taken'
            USING ERRCODE = 'exclusion_violation',
                  CONSTRAINT = 'appointments_no_doctor_overlap';
    END IF;
    INSERT INTO scheduling.availability_versions AS v (doctor_id, version)
    VALUES (p_doctor_id, 1)
    ON CONFLICT ON CONSTRAINT availability_versions_pkey DO UPDATE SET version = v.version + 1
    RETURNING v.version, v.rules_stamp, v.xmax = 0 INTO v_version, v_stamp, v_created;
    -- No row when the caller read (p_rules_stamp null) and none until now: nothing changed.
    IF v_stamp IS DISTINCT FROM p_rules_stamp AND NOT (v_created AND p_rules_stamp IS NULL) THEN
        RAISE EXCEPTION 'the availability changed since it was read'
            USING ERRCODE = 'serialization_failure';
    END IF;
    -- Under the lock, in a statement that starts after it was taken: the free check sees every
    -- booking committed before, and the row goes in only when the check passed.
    INSERT INTO scheduling.appointments
        (id, doctor_id, patient_id, period, visit_type, status, reason_id, location, notes, fee,
         currency, hold_expires_at, created_by, created_at, updated_at)
    SELECT p_id, p_doctor_id, p_patient_id, tstzrange(p_start, p_end, '[)'), p_visit_type,
           p_status, p_reason_id, p_location, p_notes, p_fee, p_currency, p_hold_expires_at,
           p_created_by, p_now, p_now
    WHERE NOT EXISTS (SELECT 1 FROM scheduling.appointments a
                      WHERE a.doctor_id = p_doctor_id
                        AND a.period && tstzrange(p_start - p_buffer, p_end + p_buffer, '[)')
                        AND a.status IN ('held', 'scheduled', 'confirmed'));
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the slot is taken'
            USING ERRCODE = 'exclusion_violation',
                  CONSTRAINT = 'appointments_no_doctor_overlap';
    END IF;
    INSERT INTO bus.outbox (id, type, occurred_at, actor, subject, data, version)
    SELECT (e->>'id')::uuid, e->>'type', (e->>'occurred_at')::timestamptz, e->>'actor',
           e->>'subject', jsonb_set(e->'data', '{availability_version}', to_jsonb(v_version)),
           (e->>'version')::int
    FROM jsonb_array_elements(p_events) WITH ORDINALITY AS t (e, n)
    ORDER BY n;
    IF p_audit IS NOT NULL THEN
        -- An entry that cannot be written refuses the booking under a code of its own, so the
        -- caller answers "audit unavailable" (fail closed) rather than a server error.
        BEGIN
            INSERT INTO audit.logs (occurred_at, user_id, role, action, resource_type,
                                    resource_id, ip_address, user_agent, request_id,
                                    request_payload, response_status)
            SELECT r.occurred_at, r.user_id, r.role, r.action, r.resource_type, r.resource_id,
                   r.ip_address, r.user_agent, r.request_id, p_audit -> 'request_payload',
                   r.response_status
            FROM jsonb_populate_record(NULL::audit.logs, p_audit) AS r;
        EXCEPTION WHEN OTHERS THEN
            RAISE EXCEPTION 'audit entry not written: %', SQLERRM USING ERRCODE = 'MKA01';
        END;
    END IF;
    RETURN QUERY
        SELECT d.id, d.doctor_id, d.patient_id, d.start_at, d.end_at, d.visit_type, d.status,
               d.reason_id, d.reason_name, d.location, d.notes, d.fee, d.currency,
               d.hold_expires_at, d.cancelled_by, d.cancellation_reason, d.cancelled_at,
               d.created_at, d.updated_at, d.time_zone, d.doctor_user_id, d.patient_user_id,
               v_version
        FROM scheduling.appointment_details d WHERE d.id = p_id;
END $$;

-- The booking's read (storage.scheduling.booking.booking_context) asks whether this patient
-- was seen by this doctor before (a completed visit) and counts their no-shows with the doctor.
-- Without an index on both, those went through the doctor's index and filtered every one of
-- the doctor's appointments: a cost that grew with the doctor's history on every booking. Only
-- completed and no-show rows are in it, so a booking (scheduled or held) does not maintain it.
CREATE INDEX appointments_patient_history ON scheduling.appointments (patient_id, doctor_id)
    WHERE status IN ('completed', 'no-show');
