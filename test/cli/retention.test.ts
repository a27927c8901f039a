/**
 * Retention by class on the real PostgreSQL: a legacy file spanning three
 * years (security and other events, with client addresses) is imported with
 * `audit import`, then retention is planned and applied as of several dates
 * (store API), and by `retention apply` (CLI, now); also killed mid-way and
 * run twice at once. After every step the rows kept, dropped and anonymized
 * are exactly what the policy says, and the chain verifies.
 */
import { expect } from 'chai';
import pg from 'pg';
import { applyRetention, planRetention } from '../../src/store/retentionClasses';
import { verifyChain } from '../../src/store/verify';
import { TEST_PII_KEY } from '../support/auditRecords';
import { runCliProcess } from '../support/cli';

import { DAY, kept, leafOf, monthEndOf, NOW, ROWS, useLegacyTrail, killRunAt } from '../support/legacyTrail';

describe('retention by class: plan, apply, crash, concurrency (real PostgreSQL)', function () {
  this.timeout(180_000);
  const trail = useLegacyTrail('ret');
  const importedSchema = () => trail.importedSchema();
  let client: pg.Client;
  before(() => { client = trail.client(); });

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
    // Hold the third partition: apply drops two, then waits for it, and is killed there.
    await killRunAt(trail, {
      schema, partition: plan.drops[2]!.partition, args: ['retention', 'apply'], env, waitingFor: 'apply waiting for the third partition',
      reached: async () => (await client.query(`SELECT count(DISTINCT partition_name)::int AS n FROM "${schema}".audit_retention`)).rows[0].n >= 2,
    });
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
