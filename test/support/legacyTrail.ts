/**
 * A legacy trail spanning three years for the retention tests: two events a
 * month for 36 months back, one per class (security PERMISSION_CHANGE, other
 * LOGIN), each with a client address, plus two of the last minute.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { migrate } from '../../src/store/migrate';
import { TEST_PII_KEY } from './auditRecords';
import { runCliProcess } from './cli';
import { createTestSchema } from './database';
import { pollUntil } from './poll';

export const DAY = 86_400_000;
export const NOW = Date.now();

/** Two events a month for 36 months back, one per class, plus two of the last minute. */
export function legacyRows(): Array<{ id: number; security: boolean; at: number }> {
  const d = new Date(NOW);
  const rows: Array<{ id: number; security: boolean; at: number }> = [];
  for (let k = 36; k >= 1; k--) {
    const at = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - k, 2, 12);
    rows.push({ id: rows.length + 1, security: true, at }, { id: rows.length + 2, security: false, at: at + 3_600_000 });
  }
  rows.push({ id: rows.length + 1, security: true, at: NOW - 60_000 }, { id: rows.length + 2, security: false, at: NOW - 60_000 });
  return rows;
}
export const ROWS = legacyRows();

export function ndjson(): string {
  return ROWS.map((r) => JSON.stringify(r.security
    ? { id: r.id, user_id: 'u-admin', action: 'PERMISSION_CHANGE', resource_type: 'user', resource_id: `u-${r.id}`, details: { target_user_id: `u-${r.id}`, old_role: 'driver', new_role: 'admin' }, ip_address: `10.0.0.${r.id}`, created_at: new Date(r.at).toISOString() }
    : { id: r.id, user_id: `u-${r.id}`, action: 'LOGIN', resource_type: 'user', resource_id: `u-${r.id}`, details: { method: 'password' }, ip_address: `10.0.0.${r.id}`, created_at: new Date(r.at).toISOString() })).join('\n');
}

/** Whether a row survives retention as of `asOf` (its whole month must be older than its class's period to go). */
export function kept(r: { security: boolean; at: number }, asOf: number): boolean {
  const d = new Date(r.at);
  const monthEnd = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  return monthEnd > asOf - (r.security ? 730 : 365) * DAY;
}


/** Where a row is after retention as of each of `asOfs` in turn (archiving months ended 90 days before). */
export function placeAfter(r: { security: boolean; at: number }, asOfs: number[]): 'hot' | 'archived' | 'gone' {
  const monthEnd = monthEndOf(r);
  let place: 'hot' | 'archived' | 'gone' = 'hot';
  for (const asOf of asOfs) {
    if (place !== 'gone' && !kept(r, asOf)) place = 'gone';
    else if (place === 'hot' && monthEnd <= asOf - 90 * DAY) place = 'archived';
  }
  return place;
}

/** Epoch ms where the month of the row ends. */
export function monthEndOf(r: { at: number }): number {
  const d = new Date(r.at);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** The class partition holding the row. */
export function leafOf(r: { security: boolean; at: number }): string {
  const d = new Date(r.at);
  return `audit_log_p${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}_${r.security ? 'security' : 'other'}`;
}

/** What a describe block using useLegacyTrail gets. */
export interface LegacyTrailFixture {
  /** A client on the test database (connected in `before`). */
  client(): pg.Client;
  /** The test database's URL. */
  url(): string;
  /** A scratch directory, removed in `after`. */
  dir: string;
  /** A fresh migrated schema holding the imported legacy file, and the CLI's environment for it. */
  importedSchema(): Promise<{ schema: string; env: Record<string, string> }>;
}

/** Registers before/after hooks in the calling describe block: a client, a scratch directory, schemas dropped at the end. */
export function useLegacyTrail(prefix: string): LegacyTrailFixture {
  const dir = mkdtempSync(join(tmpdir(), `cvd-${prefix}-`));
  const file = join(dir, 'legacy.ndjson');
  writeFileSync(file, ndjson());
  const schemas: Array<Awaited<ReturnType<typeof createTestSchema>>> = [];
  let client: pg.Client;
  before(async () => {
    const t = await createTestSchema(prefix);
    schemas.push(t);
    client = new pg.Client({ connectionString: t.url });
    await client.connect();
  });
  after(async () => {
    await client?.end();
    for (const t of schemas) await t.drop();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    client: () => client,
    url: () => schemas[0]!.url,
    dir,
    async importedSchema() {
      const t = await createTestSchema(prefix);
      schemas.push(t);
      await migrate(client, { schema: t.schema });
      const env = { CVD_ACTIVITY_DATABASE_URL: t.url, CVD_ACTIVITY_SCHEMA: t.schema, CVD_ACTIVITY_PII_KEY: TEST_PII_KEY.toString('hex') };
      const run = await runCliProcess(['audit', 'import', file], env);
      expect(run, run.stderr).to.include({ code: 0 });
      return { schema: t.schema, env };
    },
  };
}

/**
 * Runs `cvd-activity <args>` in a child process while another session holds
 * `partition` (ACCESS SHARE), waits until `reached()` says the run got there,
 * kills it with SIGKILL, releases the partition and waits for its session to end.
 */
export async function killRunAt(trail: LegacyTrailFixture, options: {
  schema: string; partition: string; args: string[]; env: Record<string, string>; waitingFor: string; reached: () => Promise<boolean>;
}): Promise<void> {
  const blocker = new pg.Client({ connectionString: trail.url() });
  await blocker.connect();
  await blocker.query(`BEGIN; LOCK TABLE "${options.schema}"."${options.partition}" IN ACCESS SHARE MODE`);
  const main = join(__dirname, '..', '..', 'dist', 'cli', 'main.js');
  const child = spawn(process.execPath, [main, ...options.args], { env: { ...process.env, ...options.env }, stdio: 'ignore' });
  try {
    await pollUntil(options.waitingFor, async () => ((await options.reached()) ? true : undefined), 60_000);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  } finally {
    await blocker.query('ROLLBACK');
    await blocker.end();
  }
  await pollUntil('the killed run\'s session to end', async () => {
    const r = await trail.client().query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'cvd-activity-cli' AND datname = current_database()`);
    return r.rows[0].n === 0 ? true : undefined;
  }, 30_000);
}
