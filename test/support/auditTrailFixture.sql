-- TEMPORARY stand-in for the store's migrations: the `audit_trail` contract
-- shape as a plain table, used only until the store branch is merged.
CREATE TABLE audit_trail (
  event_id uuid PRIMARY KEY,
  created_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  action text NOT NULL,
  category text NOT NULL,
  severity text NOT NULL,
  outcome text NOT NULL,
  reason text,
  user_id text,
  user_role text,
  session_id text,
  resource_type text,
  resource_id text,
  details jsonb NOT NULL DEFAULT '{}',
  old_value jsonb,
  new_value jsonb,
  affected_records int,
  trace_id text,
  span_id text,
  service_name text NOT NULL,
  schema_valid boolean NOT NULL DEFAULT true,
  stream_id text NOT NULL,
  seq bigint NOT NULL,
  client_address text,
  user_agent text,
  username text
);
CREATE TABLE audit_streams (stream_id text PRIMARY KEY, head_seq bigint NOT NULL, head_hash text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE audit_log (stream_id text, seq bigint);
