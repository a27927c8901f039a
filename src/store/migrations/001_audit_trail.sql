-- 001: the append-only, hash-chained audit trail.
-- Placeholders replaced by migrate.ts: {{schema}} (quoted identifier),
-- {{schema_literal}} (quoted string), {{writer}} / {{reader}} (quoted role names).

-- One row per event. Partitioned by month of the event time; a DEFAULT
-- partition catches any event whose month has no partition yet, so a row is
-- never refused for want of a partition.
CREATE TABLE {{schema}}.audit_log (
  event_id uuid NOT NULL,
  created_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL,
  action text NOT NULL,
  category text NOT NULL,
  severity text NOT NULL,
  outcome text NOT NULL,
  reason text,
  actor_type text NOT NULL,
  user_id text,
  user_role text,
  session_id text,
  resource_type text,
  resource_id text,
  details jsonb NOT NULL,
  old_value jsonb,
  new_value jsonb,
  affected_records bigint,
  trace_id text,
  span_id text,
  service_name text NOT NULL,
  schema_valid boolean NOT NULL,
  schema_errors text[] NOT NULL,
  pii_hmac text,
  stream_id text NOT NULL,
  seq bigint NOT NULL,
  prev_hash text,
  hash text NOT NULL
) PARTITION BY RANGE (created_at);

-- A unique index on a partitioned table must contain the partition key. A
-- replayed event carries the same event id AND the same event time, so
-- (event_id, created_at) rejects every replay; the writer also skips them
-- before inserting (see docs/audit-trail.md, "Exactly once").
CREATE UNIQUE INDEX audit_log_event_key ON {{schema}}.audit_log (event_id, created_at);
CREATE INDEX audit_log_stream_seq ON {{schema}}.audit_log (stream_id, seq);
CREATE INDEX audit_log_user_action ON {{schema}}.audit_log (user_id, action);
CREATE INDEX audit_log_user_time ON {{schema}}.audit_log (user_id, created_at);
CREATE INDEX audit_log_time_action ON {{schema}}.audit_log (created_at, action);
CREATE INDEX audit_log_action_time ON {{schema}}.audit_log (action, created_at);
CREATE INDEX audit_log_resource ON {{schema}}.audit_log (resource_type, resource_id);

CREATE TABLE {{schema}}.audit_log_pdefault PARTITION OF {{schema}}.audit_log DEFAULT;

-- Personal data, apart from the chained row: erasable without breaking the
-- chain, which only holds pii_hmac = HMAC(key, canonical personal data).
-- One index only (the key): every index here slows each batch down.
CREATE TABLE {{schema}}.audit_personal (
  event_id uuid PRIMARY KEY,
  client_address text,
  user_agent text,
  fields jsonb NOT NULL DEFAULT '{}',
  erased_at timestamptz
);

-- One hash chain per writer stream; its head lives here, outside audit_log,
-- so a cut-off tail of audit_log is detected by comparing against it.
CREATE TABLE {{schema}}.audit_streams (
  stream_id text PRIMARY KEY,
  head_seq bigint NOT NULL DEFAULT 0,
  head_hash text,
  host text,
  pid integer,
  started_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Runs of chain links removed by retention (partition drops): verify bridges
-- a gap exactly when a run covers it and chains to both sides.
CREATE TABLE {{schema}}.audit_retention (
  stream_id text NOT NULL,
  from_seq bigint NOT NULL,
  to_seq bigint NOT NULL,
  from_prev_hash text,
  to_hash text NOT NULL,
  events bigint NOT NULL,
  partition_name text NOT NULL,
  dropped_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, from_seq)
);

-- Append-only: any UPDATE, DELETE or TRUNCATE fails with SQLSTATE CVA01.
CREATE FUNCTION {{schema}}.audit_append_only() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  RAISE EXCEPTION USING
    ERRCODE = 'CVA01',
    MESSAGE = format('the audit log is append-only: %s on %I.%I is not allowed', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME),
    HINT = 'Rows of the audit trail are never changed or removed; retention drops whole partitions (dropPartitionsBefore).';
END
$fn$;

-- Row triggers on a partitioned table are cloned onto every partition, also
-- those created later (PostgreSQL 13+). Statement-level TRUNCATE triggers are
-- not: audit_ensure_partitions() adds one to each partition it creates.
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON {{schema}}.audit_log
  FOR EACH ROW EXECUTE FUNCTION {{schema}}.audit_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON {{schema}}.audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.audit_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON {{schema}}.audit_log_pdefault
  FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.audit_append_only();
CREATE TRIGGER audit_retention_append_only BEFORE UPDATE OR DELETE ON {{schema}}.audit_retention
  FOR EACH ROW EXECUTE FUNCTION {{schema}}.audit_append_only();
CREATE TRIGGER audit_retention_no_truncate BEFORE TRUNCATE ON {{schema}}.audit_retention
  FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.audit_append_only();
CREATE TRIGGER audit_streams_no_delete BEFORE DELETE ON {{schema}}.audit_streams
  FOR EACH ROW EXECUTE FUNCTION {{schema}}.audit_append_only();
CREATE TRIGGER audit_streams_no_truncate BEFORE TRUNCATE ON {{schema}}.audit_streams
  FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.audit_append_only();

-- The writer must advance its head, so it has UPDATE on the head columns; this
-- trigger lets a head only move forward: a writer can never rewind a head to
-- hide a cut tail (and cannot delete rows anyway).
CREATE FUNCTION {{schema}}.audit_streams_forward_only() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  IF NEW.stream_id IS DISTINCT FROM OLD.stream_id OR NEW.started_at IS DISTINCT FROM OLD.started_at
     OR NEW.head_seq < OLD.head_seq OR (NEW.head_seq = OLD.head_seq AND NEW.head_hash IS DISTINCT FROM OLD.head_hash) THEN
    RAISE EXCEPTION USING
      ERRCODE = 'CVA01',
      MESSAGE = format('the audit log is append-only: the head of stream %s may only move forward (%s -> %s)',
                       OLD.stream_id, OLD.head_seq, NEW.head_seq);
  END IF;
  RETURN NEW;
END
$fn$;
CREATE TRIGGER audit_streams_forward_only BEFORE UPDATE ON {{schema}}.audit_streams
  FOR EACH ROW EXECUTE FUNCTION {{schema}}.audit_streams_forward_only();

-- Creates the monthly partitions (UTC) holding the given instants. SECURITY
-- DEFINER so the writer role, which may not create tables, can call it.
CREATE FUNCTION {{schema}}.audit_ensure_partitions(instants timestamptz[]) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  month timestamp;
  part text;
  created integer := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext({{schema_literal}} || '.audit_log partitions'));
  FOR month IN SELECT DISTINCT date_trunc('month', i AT TIME ZONE 'UTC') FROM unnest(instants) AS i WHERE i IS NOT NULL LOOP
    part := 'audit_log_p' || to_char(month, 'YYYYMM');
    CONTINUE WHEN to_regclass(format('%I.%I', {{schema_literal}}, part)) IS NOT NULL;
    BEGIN
      EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.audit_log FOR VALUES FROM (%L) TO (%L)',
        {{schema_literal}}, part, {{schema_literal}},
        (month AT TIME ZONE 'UTC')::text, ((month + interval '1 month') AT TIME ZONE 'UTC')::text);
      EXECUTE format('CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON %I.%I FOR EACH STATEMENT EXECUTE FUNCTION %I.audit_append_only()',
        {{schema_literal}}, part, {{schema_literal}});
      created := created + 1;
    EXCEPTION WHEN check_violation THEN
      -- Rows of that month already sit in the DEFAULT partition; they stay
      -- there (queries and verify see them all the same).
      RAISE WARNING 'cvd-activity: partition % not created: the default partition holds rows of that month', part;
    END;
  END LOOP;
  RETURN created;
END
$fn$;
REVOKE ALL ON FUNCTION {{schema}}.audit_ensure_partitions(timestamptz[]) FROM PUBLIC;

-- What readers and dashboards use: the chained row with its personal data
-- merged back (nothing of it once erased).
CREATE VIEW {{schema}}.audit_trail AS
SELECT
  l.event_id, l.created_at, l.recorded_at, l.action, l.category, l.severity, l.outcome, l.reason,
  l.user_id, l.user_role, l.session_id, l.resource_type, l.resource_id,
  CASE WHEN p.erased_at IS NULL AND p.fields IS NOT NULL AND p.fields <> '{}'::jsonb
       THEN l.details || p.fields ELSE l.details END AS details,
  l.old_value, l.new_value, l.affected_records, l.trace_id, l.span_id, l.service_name, l.schema_valid,
  l.stream_id, l.seq,
  p.client_address, p.user_agent,
  p.fields ->> 'username' AS username
FROM {{schema}}.audit_log l
LEFT JOIN {{schema}}.audit_personal p ON p.event_id = l.event_id;
