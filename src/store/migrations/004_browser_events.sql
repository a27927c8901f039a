-- 004: what browsers report (page views, web vitals, feature clicks, searches,
-- forms, errors, scroll depth), one row per event. Not part of the audit trail:
-- no hash chain, not append-only; old rows go by retention (90 days by default).
-- The user is the one the app's server named with setUser(), never the browser.

CREATE TABLE {{schema}}.browser_events (
  received_at timestamptz NOT NULL,
  -- The browser's clock, clamped by the endpoint to within a day of received_at.
  occurred_at timestamptz NOT NULL,
  type text NOT NULL,
  user_id text,
  session_id text,
  page_view_id text NOT NULL,
  -- Trace of the page view; the page's API calls carry it in `traceparent`.
  trace_id text,
  -- Path without query, and the route template when the app named one.
  page text NOT NULL,
  route text,
  -- The feature, form, field, vital, error kind or search outcome the event names.
  name text,
  value double precision,
  details jsonb NOT NULL DEFAULT '{}',
  browser text,
  os text,
  device text,
  client_address text
) PARTITION BY RANGE (received_at);

CREATE INDEX browser_events_time_type ON {{schema}}.browser_events (received_at, type);
CREATE INDEX browser_events_user_time ON {{schema}}.browser_events (user_id, received_at);
CREATE INDEX browser_events_page_view ON {{schema}}.browser_events (page_view_id);
CREATE TABLE {{schema}}.browser_events_pdefault PARTITION OF {{schema}}.browser_events DEFAULT;

-- Creates the monthly partitions (UTC) holding the given instants. SECURITY
-- DEFINER so the writer role, which may not create tables, can call it.
CREATE FUNCTION {{schema}}.browser_ensure_partitions(instants timestamptz[]) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  month timestamp;
  part text;
  created integer := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext({{schema_literal}} || '.browser_events partitions'));
  FOR month IN SELECT DISTINCT date_trunc('month', i AT TIME ZONE 'UTC') FROM unnest(instants) AS i WHERE i IS NOT NULL LOOP
    part := 'browser_events_p' || to_char(month, 'YYYYMM');
    CONTINUE WHEN to_regclass(format('%I.%I', {{schema_literal}}, part)) IS NOT NULL;
    BEGIN
      EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.browser_events FOR VALUES FROM (%L) TO (%L)',
        {{schema_literal}}, part, {{schema_literal}},
        (month AT TIME ZONE 'UTC')::text, ((month + interval '1 month') AT TIME ZONE 'UTC')::text);
    EXCEPTION WHEN check_violation THEN
      -- Rows of that month already sit in the DEFAULT partition: they stay there
      -- (queries see them; retention's DELETE removes them in time).
      CONTINUE;
    END;
    created := created + 1;
  END LOOP;
  RETURN created;
END
$fn$;

-- Retention: drops the monthly partitions that end at or before `cutoff` and
-- deletes older rows from the rest, so nothing older than the cutoff stays.
CREATE FUNCTION {{schema}}.browser_apply_retention(cutoff timestamptz) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  part record;
  removed bigint := 0;
  n bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext({{schema_literal}} || '.browser_events partitions'));
  FOR part IN SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
               WHERE i.inhparent = format('%I.browser_events', {{schema_literal}})::regclass
                 AND c.relname ~ '^browser_events_p[0-9]{6}$' LOOP
    IF to_date(substr(part.name, 17), 'YYYYMM') + interval '1 month' <= cutoff AT TIME ZONE 'UTC' THEN
      EXECUTE format('SELECT count(*) FROM %I.%I', {{schema_literal}}, part.name) INTO n;
      EXECUTE format('DROP TABLE %I.%I', {{schema_literal}}, part.name);
      removed := removed + n;
    END IF;
  END LOOP;
  EXECUTE format('DELETE FROM %I.browser_events WHERE received_at < %L', {{schema_literal}}, cutoff);
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN removed + n;
END
$fn$;
REVOKE ALL ON FUNCTION {{schema}}.browser_ensure_partitions(timestamptz[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION {{schema}}.browser_apply_retention(timestamptz) FROM PUBLIC;
