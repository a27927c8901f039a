-- 002: closes findings of the security review (issue #16, docs/security.md).
-- Same placeholders as 001. Every statement is safe to run again (CREATE OR
-- REPLACE, DROP ... IF EXISTS first), and it runs on any schema migrated by 001.

-- Finding 12: keyed pseudonyms of the client address and user name, computed
-- by the writer with the PII key (outside the chain, like the personal data).
ALTER TABLE {{schema}}.audit_personal
  ADD COLUMN IF NOT EXISTS client_pseudonym text,
  ADD COLUMN IF NOT EXISTS username_pseudonym text;

-- Finding 1: personal data never overrides chained content. The personal row
-- is shown only for an event that carries its HMAC, and chained detail keys
-- win over personal ones (`fields || details`, the right side wins).
-- Finding 12: personal data only for those who may read audit_personal (the
-- owner, the writer, a login granted SELECT on it). Everyone else, such as
-- cvd_activity_reader behind Grafana, sees pseudonyms instead of the address
-- and user name (alerts and dashboards still group by them), no user agent,
-- and details without the personal fields. current_user is the caller here.
CREATE OR REPLACE VIEW {{schema}}.audit_trail AS
SELECT
  l.event_id, l.created_at, l.recorded_at, l.action, l.category, l.severity, l.outcome, l.reason,
  l.user_id, l.user_role, l.session_id, l.resource_type, l.resource_id,
  CASE WHEN v.personal AND p.erased_at IS NULL AND p.fields IS NOT NULL AND p.fields <> '{}'::jsonb
       THEN p.fields || l.details ELSE l.details END AS details,
  l.old_value, l.new_value, l.affected_records, l.trace_id, l.span_id, l.service_name, l.schema_valid,
  l.stream_id, l.seq,
  CASE WHEN v.personal THEN p.client_address ELSE p.client_pseudonym END AS client_address,
  CASE WHEN v.personal THEN p.user_agent END AS user_agent,
  CASE WHEN v.personal THEN p.fields ->> 'username' ELSE p.username_pseudonym END AS username
FROM {{schema}}.audit_log l
CROSS JOIN (SELECT has_table_privilege(format('%I.audit_personal', {{schema_literal}}), 'SELECT') AS personal) v
LEFT JOIN {{schema}}.audit_personal p ON p.event_id = l.event_id AND l.pii_hmac IS NOT NULL;

-- Finding 1: personal data can only be added together with its event: each
-- inserted personal row needs an event carrying an HMAC that was inserted by
-- this very transaction (its xmin). One check per statement (the writer COPYs
-- a whole batch in one statement), through the transition table.
CREATE OR REPLACE FUNCTION {{schema}}.audit_personal_with_event() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  orphan uuid;
BEGIN
  EXECUTE format('SELECT n.event_id FROM added n WHERE NOT EXISTS (
      SELECT 1 FROM %I.audit_log l WHERE l.event_id = n.event_id AND l.pii_hmac IS NOT NULL
        AND l.xmin = pg_current_xact_id()::xid) LIMIT 1', TG_TABLE_SCHEMA) INTO orphan;
  IF orphan IS NOT NULL THEN
    RAISE EXCEPTION USING
      ERRCODE = 'CVA01',
      MESSAGE = format('the audit log is append-only: personal data of event %s may only be inserted in the transaction that inserts the event with its pii_hmac', orphan);
  END IF;
  RETURN NULL;
END
$fn$;
DROP TRIGGER IF EXISTS audit_personal_with_event ON {{schema}}.audit_personal;
CREATE TRIGGER audit_personal_with_event AFTER INSERT ON {{schema}}.audit_personal
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.audit_personal_with_event();
-- Finding 12: a new head starts empty (seq 0, no hash). A writer can no longer
-- plant a head that points at events that never existed.
CREATE OR REPLACE FUNCTION {{schema}}.audit_streams_start_empty() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  IF NEW.head_seq <> 0 OR NEW.head_hash IS NOT NULL THEN
    RAISE EXCEPTION USING
      ERRCODE = 'CVA01',
      MESSAGE = format('the audit log is append-only: stream %s must start at seq 0 without a hash (got seq %s)', NEW.stream_id, NEW.head_seq);
  END IF;
  RETURN NEW;
END
$fn$;
DROP TRIGGER IF EXISTS audit_streams_start_empty ON {{schema}}.audit_streams;
CREATE TRIGGER audit_streams_start_empty BEFORE INSERT ON {{schema}}.audit_streams
  FOR EACH ROW EXECUTE FUNCTION {{schema}}.audit_streams_start_empty();

-- Finding 12's bound on partition creation (10 years back, 5 ahead) is in
-- 006_retention_classes.sql, whose audit_ensure_partitions replaces 001's.
