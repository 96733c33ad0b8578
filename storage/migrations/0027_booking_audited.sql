-- A booking and its audit entry in one autocommit statement (issue #19).
--
-- Before: BEGIN; SELECT scheduling.book_slot(...); INSERT INTO audit.logs ...; COMMIT: four
-- round trips, the doctor's version lock held across three of them. Now the entry rides along
-- as JSON (columns of audit.logs by name, the ones an append sets) and is inserted by the same
-- statement, so the booking and its entry still commit together or not at all, and the lock is
-- held for one statement and its commit only. A null p_audit (no request to record: demo seed,
-- in-process benches) inserts no entry. The entry goes in unsealed like any append (migration
-- 0013): the sealer chains it.
CREATE FUNCTION scheduling.book_slot_audited(
    p_id uuid, p_doctor_id uuid, p_patient_id uuid, p_start timestamptz, p_end timestamptz,
    p_visit_type text, p_status text, p_reason_id uuid, p_location text, p_notes jsonb,
    p_fee int, p_currency text, p_hold_expires_at timestamptz, p_created_by uuid,
    p_rules_stamp uuid, p_buffer interval, p_events jsonb, p_audit jsonb
) RETURNS TABLE (
    id uuid, doctor_id uuid, patient_id uuid, start_at timestamptz, end_at timestamptz,
    visit_type text, status text, reason_id uuid, reason_name text, location text, notes jsonb,
    fee int, currency char(3), hold_expires_at timestamptz, cancelled_by text,
    cancellation_reason text, cancelled_at timestamptz, created_at timestamptz,
    updated_at timestamptz, time_zone text, doctor_user_id uuid, patient_user_id uuid,
    availability_version bigint
) LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY
        SELECT * FROM scheduling.book_slot(
            p_id, p_doctor_id, p_patient_id, p_start, p_end, p_visit_type, p_status, p_reason_id,
            p_location, p_notes, p_fee, p_currency, p_hold_expires_at, p_created_by,
            p_rules_stamp, p_buffer, p_events);
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
END $$;
