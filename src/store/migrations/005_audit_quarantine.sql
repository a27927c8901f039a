-- 005: the quarantine of audit events the database refused for their content.
-- A batch refused for its content (SQLSTATE class 22/23: a value out of range,
-- an encoding Postgres cannot store) is split by the pipeline until the
-- refused event is found; that event lands here and the rest of the stream
-- flows on. The event is kept as the bytes it was spooled as (JSON, UTF-8):
-- a text or jsonb column could refuse it again. It is not in any hash chain;
-- `audit verify`, `spool status` and the alert `audit_events_quarantined`
-- report it until someone has dealt with it.
CREATE TABLE {{schema}}.audit_quarantine (
  event_id text PRIMARY KEY,
  stream_id text NOT NULL,
  action text,
  quarantined_at timestamptz NOT NULL DEFAULT now(),
  sql_state text,
  error text NOT NULL,
  event bytea NOT NULL
);

-- Append-only like audit_log: a quarantined event is evidence too.
CREATE TRIGGER audit_quarantine_no_update BEFORE UPDATE OR DELETE ON {{schema}}.audit_quarantine
  FOR EACH ROW EXECUTE FUNCTION {{schema}}.audit_append_only();
CREATE TRIGGER audit_quarantine_no_truncate BEFORE TRUNCATE ON {{schema}}.audit_quarantine
  FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.audit_append_only();
