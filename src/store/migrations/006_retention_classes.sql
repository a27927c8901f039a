-- 006: retention classes. Security events (category 'security') are kept
-- longer than other audit events (docs/data-lifecycle.md), so each monthly
-- partition created from now on is itself split by class:
--   audit_log_pYYYYMM            PARTITION OF audit_log, PARTITION BY LIST (category)
--     audit_log_pYYYYMM_security FOR VALUES IN ('security')
--     audit_log_pYYYYMM_other    DEFAULT
-- and retention drops one class's leaf without touching the other's rows.
-- Months created before this migration stay whole ("mixed"): retention drops
-- them only when every class may go.

-- A unique index on a partitioned table must hold every partitioning column,
-- of every level. A replayed event carries the same id, time AND category, so
-- this index rejects every replay as the old one did (the writer relies on
-- its unique violation, not on its name or columns).
CREATE UNIQUE INDEX audit_log_event_class_key ON {{schema}}.audit_log (event_id, created_at, category);
DROP INDEX {{schema}}.audit_log_event_key;

CREATE OR REPLACE FUNCTION {{schema}}.audit_ensure_partitions(instants timestamptz[]) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  month timestamp;
  part text;
  class text;
  created integer := 0;
  this_month timestamp := date_trunc('month', now() AT TIME ZONE 'UTC');
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext({{schema_literal}} || '.audit_log partitions'));
  FOR month IN SELECT DISTINCT date_trunc('month', i AT TIME ZONE 'UTC') FROM unnest(instants) AS i WHERE i IS NOT NULL LOOP
    -- Security finding 12: only months from 10 years before to 5 years after
    -- the current one (at most 181, each created once). The writer calls this
    -- as SECURITY DEFINER; unbounded it could create thousands of tables under
    -- an exclusive lock. Rows of other months go to the DEFAULT partition, so
    -- no event is refused.
    CONTINUE WHEN month < this_month - interval '120 months' OR month > this_month + interval '60 months';
    part := 'audit_log_p' || to_char(month, 'YYYYMM');
    CONTINUE WHEN to_regclass(format('%I.%I', {{schema_literal}}, part)) IS NOT NULL;
    BEGIN
      EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.audit_log FOR VALUES FROM (%L) TO (%L) PARTITION BY LIST (category)',
        {{schema_literal}}, part, {{schema_literal}},
        (month AT TIME ZONE 'UTC')::text, ((month + interval '1 month') AT TIME ZONE 'UTC')::text);
      FOREACH class IN ARRAY ARRAY['security', 'other'] LOOP
        EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.%I %s', {{schema_literal}}, part || '_' || class, {{schema_literal}}, part,
          CASE class WHEN 'security' THEN 'FOR VALUES IN (''security'')' ELSE 'DEFAULT' END);
        EXECUTE format('CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON %I.%I FOR EACH STATEMENT EXECUTE FUNCTION %I.audit_append_only()',
          {{schema_literal}}, part || '_' || class, {{schema_literal}});
      END LOOP;
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
