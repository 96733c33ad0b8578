-- Booking in one round trip (issue #19).
--
-- rules_stamp names the content of a doctor's availability (weekly rules, date exceptions, visit
-- reasons, settings): triggers give it a new random value whenever one of those rows changes, so
-- whatever writes them (the editor, the demo seed's COPY). A booking validates the slot against
-- an availability read before its transaction (or cached in memory under the stamp), then
-- scheduling.book_slot checks under the doctor's version lock that the stamp is still the same.
-- Random, not a counter: two databases cloned from one template never give one stamp to
-- different content.
ALTER TABLE scheduling.availability_versions
    ADD COLUMN rules_stamp uuid NOT NULL DEFAULT gen_random_uuid();

CREATE FUNCTION scheduling.restamp_rules() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE scheduling.availability_versions SET rules_stamp = gen_random_uuid()
    WHERE doctor_id = CASE WHEN TG_OP = 'DELETE' THEN OLD.doctor_id ELSE NEW.doctor_id END;
    RETURN NULL;
END $$;
CREATE TRIGGER weekly_rules_restamp AFTER INSERT OR UPDATE OR DELETE ON scheduling.weekly_rules
    FOR EACH ROW EXECUTE FUNCTION scheduling.restamp_rules();
CREATE TRIGGER date_exceptions_restamp
    AFTER INSERT OR UPDATE OR DELETE ON scheduling.date_exceptions
    FOR EACH ROW EXECUTE FUNCTION scheduling.restamp_rules();
CREATE TRIGGER visit_reasons_restamp AFTER INSERT OR UPDATE OR DELETE ON scheduling.visit_reasons
    FOR EACH ROW EXECUTE FUNCTION scheduling.restamp_rules();
CREATE TRIGGER doctor_settings_restamp
    AFTER INSERT OR UPDATE OR DELETE ON scheduling.doctor_settings
    FOR EACH ROW EXECUTE FUNCTION scheduling.restamp_rules();

-- One booking, called as one autocommit statement: refuse at once a slot another booking is
-- taking right now, bump the doctor's version (the row lock that
-- orders the doctor's slot changes and their outbox events), check the availability is the one
-- the caller validated against (else serialization_failure: read it again and retry), refuse a
-- slot that is taken or inside the buffer of a neighbour (an exclusion_violation naming the
-- doctor constraint, like the constraint itself, which stays the real guard), insert the
-- appointment and its events, and return the appointment as scheduling.appointment_details
-- shows it with the new version. The events' data get the version here, the only place it is
-- known: each p_events element is an outbox row as JSON (bus.outbox columns but seq).
CREATE FUNCTION scheduling.book_slot(
    p_id uuid, p_doctor_id uuid, p_patient_id uuid, p_start timestamptz, p_end timestamptz,
    p_visit_type text, p_status text, p_reason_id uuid, p_location text, p_notes jsonb,
    p_fee int, p_currency text, p_hold_expires_at timestamptz, p_created_by uuid,
    p_rules_stamp uuid, p_buffer interval, p_events jsonb
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
    -- Under the lock, a statement of its own: sees every booking committed before it.
    IF EXISTS (SELECT 1 FROM scheduling.appointments a
               WHERE a.doctor_id = p_doctor_id
                 AND a.period && tstzrange(p_start - p_buffer, p_end + p_buffer, '[)')
                 AND a.status IN ('held', 'scheduled', 'confirmed')) THEN
        RAISE EXCEPTION 'the slot is taken'
            USING ERRCODE = 'exclusion_violation',
                  CONSTRAINT = 'appointments_no_doctor_overlap';
    END IF;
    INSERT INTO scheduling.appointments
        (id, doctor_id, patient_id, period, visit_type, status, reason_id, location, notes, fee,
         currency, hold_expires_at, created_by)
    VALUES (p_id, p_doctor_id, p_patient_id, tstzrange(p_start, p_end, '[)'), p_visit_type,
            p_status, p_reason_id, p_location, p_notes, p_fee, p_currency, p_hold_expires_at,
            p_created_by);
    INSERT INTO bus.outbox (id, type, occurred_at, actor, subject, data, version)
    SELECT (e->>'id')::uuid, e->>'type', (e->>'occurred_at')::timestamptz, e->>'actor',
           e->>'subject', jsonb_set(e->'data', '{availability_version}', to_jsonb(v_version)),
           (e->>'version')::int
    FROM jsonb_array_elements(p_events) WITH ORDINALITY AS t (e, n)
    ORDER BY n;
    RETURN QUERY
        SELECT d.id, d.doctor_id, d.patient_id, d.start_at, d.end_at, d.visit_type, d.status,
               d.reason_id, d.reason_name, d.location, d.notes, d.fee, d.currency,
               d.hold_expires_at, d.cancelled_by, d.cancellation_reason, d.cancelled_at,
               d.created_at, d.updated_at, d.time_zone, d.doctor_user_id, d.patient_user_id,
               v_version
        FROM scheduling.appointment_details d WHERE d.id = p_id;
END $$;
