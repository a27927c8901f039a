/**
 * Retention by class on the real PostgreSQL: a legacy file spanning three
 * years (security and other events, with client addresses) is imported with
 * `audit import`, then retention is planned and applied as of several dates
 * (store API), and by `retention apply` (CLI, now); also killed mid-way and
 * run twice at once. After every step the rows kept, dropped and anonymized
 * are exactly what the policy says, and the chain verifies.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { migrate } from '../../src/store/migrate';
import { applyRetention, planRetention } from '../../src/store/retentionClasses';
import { verifyChain } from '../../src/store/verify';
import { createTestSchema } from '../support/database';
import { TEST_PII_KEY } from '../support/auditRecords';
import { runCliProcess } from '../support/cli';
import { pollUntil } from '../support/poll';

import { DAY, kept, leafOf, monthEndOf, ndjson, NOW, ROWS } from '../support/legacyTrail';

describe('retention by class: plan, apply, crash, concurrency (real PostgreSQL)', function () {
  this.timeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'cvd-retention-'));
  const file = join(dir, 'legacy.ndjson');
  writeFileSync(file, ndjson());
  const schemas: Array<Awaited<ReturnType<typeof createTestSchema>>> = [];
  let client: pg.Client;

  before(async () => {
    const t = await createTestSchema('ret');
    schemas.push(t);
    client = new pg.Client({ connectionString: t.url });
    await client.connect();
  });
  after(async () => {
    await client?.end();
    for (const t of schemas) await t.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh schema holding the imported legacy file. */
  async function importedSchema(): Promise<{ schema: string; env: Record<string, string> }> {
    const t = await createTestSchema('ret');
    schemas.push(t);
    await migrate(client, { schema: t.schema });
    const env = { CVD_ACTIVITY_DATABASE_URL: t.url, CVD_ACTIVITY_SCHEMA: t.schema, CVD_ACTIVITY_PII_KEY: TEST_PII_KEY.toString('hex') };
    const run = await runCliProcess(['audit', 'import', file], env);
    expect(run, run.stderr).to.include({ code: 0 });
    return { schema: t.schema, env };
  }

  /** The legacy rows left, by their old id, and whether their client address is still there. */
  async function state(schema: string): Promise<Map<number, boolean>> {
    const { rows } = await client.query(`SELECT (details->'_import'->'columns'->>'id')::int AS id, client_address FROM "${schema}".audit_trail WHERE stream_id LIKE 'import@%'`);
    return new Map(rows.map((r) => [r.id as number, r.client_address !== null]));
  }

  function expected(asOfs: number[]): Map<number, boolean> {
    const last = Math.max(...asOfs);
    const out = new Map<number, boolean>();
    for (const r of ROWS) if (asOfs.every((a) => kept(r, a))) out.set(r.id, r.at >= last - 365 * DAY);
    return out;
  }

  /** Leaf partitions marked compacted. */
  async function compacted(schema: string): Promise<Set<string>> {
    const { rows } = await client.query(`SELECT c.relname FROM pg_class c WHERE c.relnamespace = $1::regnamespace AND c.relkind = 'r'
      AND 'fillfactor=100' = ANY(c.reloptions)`, [schema]);
    return new Set(rows.map((r) => r.relname as string));
  }

  async function verified(schema: string): Promise<void> {
    const result = await verifyChain(client, { schema, piiKey: TEST_PII_KEY });
    expect(result.ok, JSON.stringify(result.streams.filter((s) => s.problem))).to.equal(true);
  }

  it('plans and applies as of several dates: per class exactly the expected rows remain and are anonymized; verify passes throughout', async () => {
    const { schema, env } = await importedSchema();
    expect(await state(schema)).to.deep.equal(expected([0]));
    await verified(schema);

    const asOfs: number[] = [];
    for (const asOf of [NOW - 400 * DAY, NOW - 120 * DAY]) {
      asOfs.push(asOf);
      const plan = await planRetention(client, { schema, asOf: new Date(asOf) });
      const due = ROWS.filter((r) => asOfs.every((a, i) => i === asOfs.length - 1 || kept(r, a)) && !kept(r, asOf));
      expect(plan.classes.find((c) => c.class === 'security')!.rowsToDrop).to.equal(due.filter((r) => r.security).length);
      expect(plan.classes.find((c) => c.class === 'other')!.rowsToDrop).to.equal(due.filter((r) => !r.security).length);
      expect(plan.drops.every((d) => d.class !== 'mixed')).to.equal(true);
      const compactedBefore = await compacted(schema);
      const toCompact = ROWS.filter((r) => expected(asOfs).has(r.id) && monthEndOf(r) <= asOf - 30 * DAY && !compactedBefore.has(leafOf(r)));
      expect(plan.classes.map((c) => c.rowsToCompact)).to.deep.equal([toCompact.filter((r) => r.security).length, toCompact.filter((r) => !r.security).length]);
      const done = await applyRetention(client, { schema, asOf: new Date(asOf) });
      expect(done.drops.reduce((n, d) => n + d.rows, 0)).to.equal(due.length);
      expect(await state(schema)).to.deep.equal(expected(asOfs));
      const leaves = ROWS.filter((r) => expected(asOfs).has(r.id) && monthEndOf(r) <= asOf - 30 * DAY).map(leafOf);
      expect([...await compacted(schema)].sort(), 'the kept months past 30 days are compacted').to.deep.equal([...new Set(leaves)].sort());
      await verified(schema);
      const again = await applyRetention(client, { schema, asOf: new Date(asOf) });
      expect(again.drops, 'idempotent').to.deep.equal([]);
      expect(again.compactions, 'idempotent').to.deep.equal([]);
      expect(again.anonymize.events).to.equal(0);
    }

    const plan = await runCliProcess(['retention', 'plan', '--format', 'json'], env);
    expect(plan, plan.stderr).to.include({ code: 0 });
    const apply = await runCliProcess(['retention', 'apply', '--format', 'json'], env);
    expect(apply, apply.stderr).to.include({ code: 0 });
    asOfs.push(Date.now());
    expect(await state(schema)).to.deep.equal(expected(asOfs));
    const planned = JSON.parse(plan.stdout).drops as Array<{ partition: string; rows: number }>;
    expect(JSON.parse(apply.stdout).drops, 'apply did what plan said').to.deep.equal(planned);
    const recorded = (await client.query(`SELECT details FROM "${schema}".audit_log WHERE action = 'RETENTION_APPLY'`)).rows;
    expect(recorded).to.have.length(1);
    expect(recorded[0].details.events_dropped).to.equal(planned.reduce((n, d) => n + d.rows, 0));
    expect(recorded[0].details.partitions_dropped).to.deep.equal(planned.map((d) => d.partition));
    const verify = await runCliProcess(['audit', 'verify'], env);
    expect(verify.code, verify.stdout).to.equal(0);

    // Altering a hot row breaks verification.
    const victim = (await client.query(`SELECT event_id, details FROM "${schema}".audit_log WHERE action = 'LOGIN' LIMIT 1`)).rows[0];
    await client.query(`BEGIN; SET LOCAL session_replication_role = replica;
      UPDATE "${schema}".audit_log SET details = details || '{"method":"sso"}' WHERE event_id = '${victim.event_id}'; COMMIT`);
    const broken = await runCliProcess(['audit', 'verify'], env);
    expect(broken.code).to.equal(1);
    expect(broken.stdout).to.include(victim.event_id);
  });

  it('killed mid-way (SIGKILL) and run again: no row lost or duplicated, verify passes', async () => {
    const { schema, env } = await importedSchema();
    const plan = await planRetention(client, { schema });
    expect(plan.drops.length).to.be.greaterThan(3);
    const blocker = new pg.Client({ connectionString: schemas[0]!.url });
    await blocker.connect();
    // Hold the third partition: apply drops two, then waits for it, and is killed there.
    await blocker.query(`BEGIN; LOCK TABLE "${schema}"."${plan.drops[2]!.partition}" IN ACCESS SHARE MODE`);
    const child = spawn(process.execPath, [join(__dirname, '..', '..', 'dist', 'cli', 'main.js'), 'retention', 'apply'], { env: { ...process.env, ...env }, stdio: 'ignore' });
    try {
      await pollUntil('apply waiting for the third partition', async () => {
        const r = await client.query(`SELECT count(DISTINCT partition_name)::int AS n FROM "${schema}".audit_retention`);
        return r.rows[0].n >= 2 ? true : undefined;
      }, 60_000);
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
    await pollUntil('the killed run\'s session to end', async () => {
      const r = await client.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'cvd-activity-cli' AND datname = current_database()`);
      return r.rows[0].n === 0 ? true : undefined;
    }, 30_000);
    const between = await state(schema);
    expect(between.size, 'killed after some drops and before the last').to.be.within(expected([Date.now()]).size + 1, ROWS.length - 1);
    const again = await runCliProcess(['retention', 'apply'], env);
    expect(again, again.stderr).to.include({ code: 0 });
    await checkEndState(schema);
  });

  it('two concurrent applies end in the same state as one', async () => {
    const { schema, env } = await importedSchema();
    const runs = await Promise.all([runCliProcess(['retention', 'apply', '--format', 'json'], env), runCliProcess(['retention', 'apply', '--format', 'json'], env)]);
    for (const r of runs) expect(r, r.stderr).to.include({ code: 0 });
    const dropped = runs.map((r) => JSON.parse(r.stdout).drops.length as number);
    expect(Math.min(...dropped), 'one run found nothing left to do').to.equal(0);
    await checkEndState(schema);
  });

  /** Exactly the rows a single apply (now) keeps; each dropped row in one retention run; the chain verifies. */
  async function checkEndState(schema: string): Promise<void> {
    expect(await state(schema)).to.deep.equal(expected([Date.now()]));
    const { rows } = await client.query(`SELECT stream_id, from_seq::int, to_seq::int, events::int FROM "${schema}".audit_retention ORDER BY stream_id, from_seq`);
    const covered = rows.reduce((n, r) => n + r.events, 0);
    expect(covered).to.equal(ROWS.filter((r) => !kept(r, Date.now())).length);
    for (let i = 1; i < rows.length; i++) if (rows[i].stream_id === rows[i - 1].stream_id) expect(rows[i].from_seq).to.be.greaterThan(rows[i - 1].to_seq);
    await verified(schema);
  }
});
