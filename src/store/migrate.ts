/**
 * Versioned, idempotent migrations: each SQL file in ./migrations runs once per
 * schema, inside one transaction under an advisory lock, and is recorded in
 * `<schema>.schema_migrations`. Every run also creates the partitions around
 * the current month, and the roles and grants (cluster-global, created race-safely).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientBase } from 'pg';
import { toStoreError } from './errors';
import { checkName, DEFAULT_SCHEMA, quoteIdent, quoteLiteral } from './identifiers';

/** Names of the two roles; cluster-global, shared by every schema of the cluster. */
export interface AuditRoles {
  /** INSERT and SELECT on the trail, UPDATE of its own stream heads. */
  writer: string;
  /** SELECT only, and no personal data: the audit_trail view shows it pseudonyms. */
  reader: string;
}

/** Options of `migrate()`. */
export interface MigrateOptions {
  /** Schema of the audit tables (default `cvd_activity`). */
  schema?: string;
  /** Role names, or `false` to create no roles and grant nothing (default cvd_activity_writer / cvd_activity_reader). */
  roles?: AuditRoles | false;
  /** Months before the current one to create partitions for (default 1). */
  monthsBehind?: number;
  /** Months after the current one to create partitions for (default 3). */
  monthsAhead?: number;
  /** The current time (tests). */
  now?: Date;
}

/** What `migrate()` did. */
export interface MigrateResult {
  schema: string;
  /** Migrations applied by this call, e.g. `["001_audit_trail"]`; empty when up to date. */
  applied: string[];
  /** Partitions created by this call. */
  partitionsCreated: number;
  /** `granted`, `skipped` when roles are missing and this user may not create them (a warning, not an error), or `off`. */
  roles: 'granted' | 'skipped' | 'off';
}

/** Default role names. */
export const DEFAULT_ROLES: AuditRoles = { writer: 'cvd_activity_writer', reader: 'cvd_activity_reader' };

interface Migration {
  version: number;
  name: string;
  sql: string;
}

function loadMigrations(): Migration[] {
  const dir = join(__dirname, 'migrations');
  return readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.slice(0, 3)), name: f.replace(/\.sql$/, ''), sql: readFileSync(join(dir, f), 'utf8') }));
}

function render(sql: string, schema: string, roles: AuditRoles): string {
  return sql
    .replaceAll('{{schema}}', quoteIdent(schema))
    .replaceAll('{{schema_literal}}', quoteLiteral(schema))
    .replaceAll('{{writer}}', quoteIdent(roles.writer))
    .replaceAll('{{reader}}', quoteIdent(roles.reader));
}

/** Brings `schema` up to date; safe to run concurrently and repeatedly. */
export async function migrate(client: ClientBase, options: MigrateOptions = {}): Promise<MigrateResult> {
  const schema = checkName('schema', options.schema ?? DEFAULT_SCHEMA);
  const roles = options.roles === undefined ? DEFAULT_ROLES : options.roles;
  if (roles) {
    checkName('roles.writer', roles.writer);
    checkName('roles.reader', roles.reader);
  }
  const s = quoteIdent(schema);
  const applied: string[] = [];
  let partitionsCreated = 0;
  let rolesDone: MigrateResult['roles'] = 'off';
  try {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`cvd_activity.migrate:${schema}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (
        version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      const done = new Set((await client.query<{ version: number }>(`SELECT version FROM ${s}.schema_migrations`)).rows.map((r) => r.version));
      for (const m of loadMigrations()) {
        if (done.has(m.version)) continue;
        await client.query(render(m.sql, schema, roles || DEFAULT_ROLES));
        await client.query(`INSERT INTO ${s}.schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
        applied.push(m.name);
      }
      partitionsCreated = await createPartitionsAround(client, schema, options);
      if (roles) rolesDone = (await grantRoles(client, schema, roles)) ? 'granted' : 'skipped';
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
  } catch (err) {
    throw toStoreError(err, `migrating schema ${schema}`);
  }
  return { schema, applied, partitionsCreated, roles: rolesDone };
}

async function createPartitionsAround(client: ClientBase, schema: string, options: MigrateOptions): Promise<number> {
  const now = options.now ?? new Date();
  const instants: string[] = [];
  for (let m = -(options.monthsBehind ?? 1); m <= (options.monthsAhead ?? 3); m++) {
    instants.push(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + m, 1)).toISOString());
  }
  let created = 0;
  for (const table of ['audit', 'browser']) {
    const { rows } = await client.query<{ n: number }>(
      `SELECT ${quoteIdent(schema)}.${table}_ensure_partitions($1::timestamptz[]) AS n`, [instants]);
    created += rows[0]?.n ?? 0;
  }
  return created;
}

/**
 * Creates the roles if missing (race-safe across parallel migrations) and
 * grants them their rights on `schema`. Returns false, granting nothing, when
 * a role is missing and this user lacks CREATEROLE (an app migrating at start-up).
 */
async function grantRoles(client: ClientBase, schema: string, roles: AuditRoles): Promise<boolean> {
  // Roles are cluster-global: serialize their creation cluster-wide, and still
  // tolerate a concurrent creator that did not take the lock.
  await client.query(`SELECT pg_advisory_xact_lock(hashtext('cvd_activity.roles'))`);
  for (const role of [roles.writer, roles.reader]) {
    await client.query(`DO $do$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = ${quoteLiteral(role)}) THEN
        BEGIN CREATE ROLE ${quoteIdent(role)} NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
                  WHEN insufficient_privilege THEN RAISE WARNING 'cvd-activity: cannot create role %: no CREATEROLE', ${quoteLiteral(role)};
        END;
      END IF; END $do$`);
  }
  const { rows } = await client.query('SELECT count(*)::int AS n FROM pg_catalog.pg_roles WHERE rolname = ANY($1)', [[roles.writer, roles.reader]]);
  if (rows[0].n !== 2) return false;
  const s = quoteIdent(schema);
  const w = quoteIdent(roles.writer);
  const r = quoteIdent(roles.reader);
  await client.query(`
    GRANT USAGE ON SCHEMA ${s} TO ${w}, ${r};
    GRANT SELECT, INSERT ON ${s}.audit_log, ${s}.audit_personal, ${s}.audit_streams, ${s}.audit_quarantine TO ${w};
    GRANT UPDATE (head_seq, head_hash, host, pid, updated_at) ON ${s}.audit_streams TO ${w};
    GRANT SELECT ON ${s}.audit_retention, ${s}.audit_trail, ${s}.schema_migrations TO ${w};
    GRANT EXECUTE ON FUNCTION ${s}.audit_ensure_partitions(timestamptz[]) TO ${w};
    GRANT SELECT, INSERT ON ${s}.browser_events TO ${w};
    GRANT EXECUTE ON FUNCTION ${s}.browser_ensure_partitions(timestamptz[]), ${s}.browser_apply_retention(timestamptz) TO ${w};
    GRANT SELECT ON ${s}.audit_log, ${s}.audit_streams, ${s}.audit_retention,
      ${s}.audit_trail, ${s}.schema_migrations, ${s}.audit_quarantine,
      ${s}.audit_archive, ${s}.audit_archive_removed TO ${r};
    -- Personal data only for a role that needs it: the view shows the reader pseudonyms,
    -- and browser events every column but the client address.
    REVOKE SELECT ON ${s}.audit_personal, ${s}.browser_events FROM ${r};
    GRANT SELECT (received_at, occurred_at, type, user_id, session_id, page_view_id, trace_id, page, route, name, value,
      details, browser, os, device) ON ${s}.browser_events TO ${r};`);
  return true;
}
