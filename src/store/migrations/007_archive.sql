-- 007: cold storage. `retention apply --archive-dir` moves months older than
-- 90 days out of audit_log into gzip'd NDJSON files (docs/data-lifecycle.md,
-- "Archive"). Each file is listed here with its SHA-256 in the same
-- transaction that drops the partition, so the database itself says which
-- files hold which chain links (audit_retention.partition_name = file), and a
-- file rewritten together with its manifest is still detected.
CREATE TABLE {{schema}}.audit_archive (
  file text PRIMARY KEY,
  partition_name text NOT NULL,
  month text NOT NULL,
  class text NOT NULL,
  events bigint NOT NULL,
  bytes bigint NOT NULL,
  sha256 text NOT NULL,
  archived_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER audit_archive_append_only BEFORE UPDATE OR DELETE ON {{schema}}.audit_archive
  FOR EACH ROW EXECUTE FUNCTION {{schema}}.audit_append_only();
CREATE TRIGGER audit_archive_no_truncate BEFORE TRUNCATE ON {{schema}}.audit_archive
  FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.audit_append_only();

-- The personal data of archived events stays here (never in the archive
-- files) until it is anonymized after a year: these columns keep what
-- erasure needs once the chained row has left audit_log, its event time and
-- its data subjects: {actor user_id, id of a `user` resource, target_user_id}
-- (NULL where absent, so [1] is always the actor).
ALTER TABLE {{schema}}.audit_personal
  ADD COLUMN archived_created_at timestamptz,
  ADD COLUMN archived_subjects text[];

-- Archive files whose class's retention has passed are deleted by `retention
-- apply`; each is listed here once gone, so verify --archive expects exactly
-- the files listed in audit_archive and not here.
CREATE TABLE {{schema}}.audit_archive_removed (
  file text PRIMARY KEY REFERENCES {{schema}}.audit_archive (file),
  removed_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER audit_archive_removed_append_only BEFORE UPDATE OR DELETE ON {{schema}}.audit_archive_removed
  FOR EACH ROW EXECUTE FUNCTION {{schema}}.audit_append_only();
CREATE TRIGGER audit_archive_removed_no_truncate BEFORE TRUNCATE ON {{schema}}.audit_archive_removed
  FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.audit_append_only();
