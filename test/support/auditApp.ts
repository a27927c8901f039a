/**
 * The whole product from the outside, for test/integration: the audit fixture
 * app (test/fixtures/audit-app.js) in a child process under `--require
 * dist/register.js`, with its own temp spool folder, pointed at a test schema
 * and an OTLP receiver; plus reading what reached Postgres, polling until a
 * deadline instead of sleeping.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startChildApp } from './childApp';
import type { ChildApp } from './childApp';

/** The HMAC key the integration apps and `audit verify` share (hex, 32 bytes). */
export const INTEGRATION_PII_KEY = 'a1'.repeat(32);

/** Environment that leaves the app with no database at all (pg's own PG* variables included). */
export const NO_DATABASE_ENV: NodeJS.ProcessEnv = {
  CVD_ACTIVITY_DATABASE_URL: undefined, DATABASE_URL: undefined, PGHOST: undefined, PGDATABASE: undefined, PGSERVICE: undefined,
};

/** A temp folder (spool, working directory); `cleanup()` removes every folder made. */
export class TempDirs {
  private readonly dirs: string[] = [];

  make(prefix = 'cvd-integration-'): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  cleanup(): void {
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

/** Environment for an audit app storing into `schema` (auto-migrated), spooling into `spoolDir`, exporting to `otlpUrl`. */
export function auditAppEnv(o: { url: string; schema: string; spoolDir: string; otlpUrl: string; serviceName?: string }): NodeJS.ProcessEnv {
  return {
    OTEL_SERVICE_NAME: o.serviceName ?? 'integration-app',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: o.otlpUrl,
    CVD_ACTIVITY_DATABASE_URL: o.url,
    CVD_ACTIVITY_SCHEMA: o.schema,
    CVD_ACTIVITY_AUTO_MIGRATE: 'true',
    CVD_ACTIVITY_SPOOL_DIR: o.spoolDir,
    CVD_ACTIVITY_PII_KEY: INTEGRATION_PII_KEY,
    CVD_ACTIVITY_BATCH_DELAY_MS: '50',
    CVD_ACTIVITY_STRICT: 'false',
  };
}

/** Starts test/fixtures/audit-app.js under --require dist/register.js. */
export function startAuditApp(env: NodeJS.ProcessEnv, cwd?: string): Promise<ChildApp> {
  return startChildApp('audit-app.js', 'require', env, [], cwd);
}

/** One HTTP call to the app; the JSON body (or null). */
export async function call(app: ChildApp, method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> | null }> {
  const res = await fetch(`${app.base}${path}`, { method, headers });
  const text = await res.text();
  let body: Record<string, unknown> | null = null;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = null;
  }
  return { status: res.status, body };
}

/** The event id an audit route answered with (fails the test when the call failed). */
export async function recordVia(app: ChildApp, method: string, path: string, headers: Record<string, string> = {}): Promise<string> {
  const { status, body } = await call(app, method, path, headers);
  const id = body?.eventId;
  if (typeof id !== 'string') throw new Error(`${method} ${path} answered ${status} ${JSON.stringify(body)}; stderr: ${app.stderr()}`);
  return id;
}

import { pollUntil } from './poll';
export { pollUntil };

/** Runs one query on a short-lived connection. */
export async function query<R extends pg.QueryResultRow = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** Rows of `schema`.audit_trail for these event ids, once all of them are stored. */
export async function waitForTrailRows(url: string, schema: string, eventIds: readonly string[], timeoutMs = 20000): Promise<Record<string, unknown>[]> {
  return pollUntil(`${eventIds.length} audit rows in ${schema}`, async () => {
    const rows = await query(url, `SELECT * FROM "${schema}".audit_trail WHERE event_id = ANY($1::uuid[])`, [eventIds]);
    return rows.length === eventIds.length ? rows : undefined;
  }, timeoutMs);
}

/** How many rows `schema`.audit_log holds, and how many distinct event ids. */
export async function countAuditRows(url: string, schema: string): Promise<{ rows: number; distinct: number }> {
  const [r] = await query<{ rows: number; distinct: number }>(url, `SELECT count(*)::int AS rows, count(DISTINCT event_id)::int AS distinct FROM "${schema}".audit_log`);
  return r;
}
