/**
 * bench/ingest: audit events per second from enqueue (what record() does after
 * validation) to committed rows, side by side in one run against
 *   (a) one awaited INSERT per event, the old design, and
 *   (b) raw COPY of the same rows with no validation, chain or spool: the ceiling.
 * Uses the shared server (CVD_ACTIVITY_TEST_DATABASE_URL, default
 * postgres://postgres@127.0.0.1:5432/test) and throwaway schemas.
 *   node --import tsx bench/ingest/run.ts   [BENCH_EVENTS=50000 BENCH_NAIVE_EVENTS=3000 BENCH_ROUNDS=3 BENCH_BATCH_SIZE=500]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { AuditEvent } from '../../src/audit/types';
import type { CvdActivityConfig } from '../../src/config/types';
import { createAuditPipeline } from '../../src/pipeline/createAuditPipeline';
import { copyField, copyTextArray } from '../../src/store/copy';
import { migrate } from '../../src/store/migrate';
import { createPgAuditWriter } from '../../src/store/PgAuditWriter';
import { writeResultsSection } from './results';

const URL = process.env.CVD_ACTIVITY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const N = Number(process.env.BENCH_EVENTS ?? 50_000);
const N_NAIVE = Number(process.env.BENCH_NAIVE_EVENTS ?? 3_000);
const BATCH = Number(process.env.BENCH_BATCH_SIZE ?? 500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const KEY = randomBytes(32);

function event(i: number): AuditEvent {
  return {
    v: 1, eventId: randomUUID(), occurredAt: new Date(Date.now() - (N - i)).toISOString(),
    action: ['PRICE_CHANGE', 'DEVICE_UPDATE', 'ORDER_CREATE', 'PERMISSION_CHANGE'][i % 4]!, category: 'business',
    severity: 'medium', outcome: i % 50 === 0 ? 'failure' : 'success', reason: null,
    actor: { id: `user-${i % 300}`, roles: ['admin'], sessionId: `sess-${i % 1000}`, type: 'user' },
    resourceType: 'product', resourceId: `P-${i % 5000}`,
    details: { price: 1 + (i % 100) / 10, currency: 'EUR', store: `S-${i % 40}`, note: 'planogram update batch' },
    oldValue: { price: 1.25 }, newValue: { price: 1.5 }, affectedRecords: 1,
    personal: { clientAddress: '203.0.113.7', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) bench', fields: { username: `user${i % 300}` } },
    traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex'), serviceName: 'cvd-api',
    schemaValid: true, schemaErrors: [],
  };
}

async function withClient<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A migrated schema plus plain copies of its tables (same columns and indexes, no triggers) for the baselines. */
async function setUp(schema: string): Promise<void> {
  await withClient(async (c) => {
    await migrate(c, { schema, roles: false });
    for (const t of ['raw_log', 'naive_log']) await c.query(`CREATE TABLE "${schema}".${t} (LIKE "${schema}".audit_log INCLUDING ALL)`);
    await c.query(`CREATE TABLE "${schema}".raw_personal (LIKE "${schema}".audit_personal INCLUDING ALL)`);
  });
}

/** The product path: enqueue into the spool, batches, hash chain, COPY, one transaction per batch. */
async function runPipeline(schema: string, events: AuditEvent[], fsync: 'none' | 'batch'): Promise<number> {
  const count = () => withClient(async (c) => Number((await c.query(`SELECT count(*) FROM "${schema}".audit_log`)).rows[0].count));
  const before = await count();
  const dir = mkdtempSync(join(tmpdir(), 'cvd-bench-spool-'));
  const config = {
    pipeline: { spoolDir: dir, spoolMaxBytes: 4 * 2 ** 30, spoolFsync: fsync, batchSize: BATCH, batchDelayMs: 200, retryMaxDelayMs: 30_000 },
    shutdownTimeoutMs: 5000,
  } as CvdActivityConfig;
  const handle = createAuditPipeline(config, {
    writerFactory: ({ streamId }) => createPgAuditWriter({ connectionString: URL, schema, streamId, piiKey: KEY }),
  });
  const t0 = performance.now();
  // An app records events over time: yield to the event loop every 1000, as request handlers would.
  for (let i = 0; i < events.length; i += 1000) {
    for (const e of events.slice(i, i + 1000)) handle.sink.enqueue(e);
    await new Promise((r) => setImmediate(r));
  }
  await handle.sink.forceFlush(600_000);
  const ms = performance.now() - t0;
  await handle.sink.shutdown();
  rmSync(dir, { recursive: true, force: true });
  const stored = (await count()) - before;
  if (stored !== events.length) throw new Error(`pipeline stored ${stored} of ${events.length} events`);
  return (events.length / ms) * 1000;
}

const LOG_COLS = 'event_id, created_at, recorded_at, action, category, severity, outcome, reason, actor_type, user_id, user_role, session_id, '
  + 'resource_type, resource_id, details, old_value, new_value, affected_records, trace_id, span_id, service_name, schema_valid, schema_errors, '
  + 'pii_hmac, stream_id, seq, prev_hash, hash';

function logValues(e: AuditEvent, i: number, now: string): (string | number | boolean | null)[] {
  return [e.eventId, e.occurredAt, now, e.action, e.category, e.severity, e.outcome, e.reason, e.actor.type, e.actor.id, e.actor.roles.join(','),
    e.actor.sessionId, e.resourceType, e.resourceId, JSON.stringify(e.details), JSON.stringify(e.oldValue), JSON.stringify(e.newValue),
    e.affectedRecords, e.traceId, e.spanId, e.serviceName, e.schemaValid, null, null, 'raw', i + 1, null, 'x'];
}

/** (b) The same rows, straight into plain copies of the tables with one COPY each: no validation, chain, dedup or spool. */
async function runRawCopy(schema: string, events: AuditEvent[]): Promise<number> {
  return withClient(async (c) => {
    const t0 = performance.now();
    const now = new Date().toISOString();
    let log = '';
    let personal = '';
    events.forEach((e, i) => {
      const v = logValues(e, i, now);
      v[22] = '{}';
      log += v.map((x, k) => (k === 22 ? copyTextArray(e.schemaErrors) : copyField(x))).join('\t') + '\n';
      const p = e.personal;
      personal += `${e.eventId}\t${e.occurredAt}\t${copyField(p.clientAddress)}\t${copyField(p.userAgent)}\t${copyField(JSON.stringify(p.fields))}\n`;
    });
    await c.query('BEGIN');
    await pipeline(Readable.from([Buffer.from(log)]), c.query(copyFrom(`COPY "${schema}".raw_log (${LOG_COLS}) FROM STDIN`)));
    await pipeline(Readable.from([Buffer.from(personal)]),
      c.query(copyFrom(`COPY "${schema}".raw_personal (event_id, created_at, client_address, user_agent, fields) FROM STDIN`)));
    await c.query('COMMIT');
    return (events.length / (performance.now() - t0)) * 1000;
  });
}

/** Diagnostic: the store writer alone (writeBatch in a loop, no spool), to show where the pipeline's time goes. */
async function runWriterAlone(schema: string, events: AuditEvent[]): Promise<number> {
  const writer = createPgAuditWriter({ connectionString: URL, schema, streamId: `writer-alone-${randomUUID()}`, piiKey: KEY });
  const t0 = performance.now();
  for (let i = 0; i < events.length; i += BATCH) await writer.writeBatch(events.slice(i, i + BATCH));
  const rate = (events.length / (performance.now() - t0)) * 1000;
  await writer.close();
  return rate;
}

/** Diagnostic: the spool alone (enqueue = JSON line + write(2)), no database. */
function runSpoolAlone(events: AuditEvent[]): number {
  const dir = mkdtempSync(join(tmpdir(), 'cvd-bench-spool-'));
  const config = {
    pipeline: { spoolDir: dir, spoolMaxBytes: 4 * 2 ** 30, spoolFsync: 'none', batchSize: BATCH, batchDelayMs: 200, retryMaxDelayMs: 30_000 },
    shutdownTimeoutMs: 100,
  } as CvdActivityConfig;
  const handle = createAuditPipeline(config, { writerFactory: null });
  const t0 = performance.now();
  for (const e of events) handle.sink.enqueue(e);
  const rate = (events.length / (performance.now() - t0)) * 1000;
  void handle.sink.shutdown().then(() => rmSync(dir, { recursive: true, force: true }));
  return rate;
}

/** (a) The old design: one awaited INSERT per event, each its own transaction. */
async function runNaive(schema: string, events: AuditEvent[]): Promise<number> {
  return withClient(async (c) => {
    const now = new Date().toISOString();
    const sql = `INSERT INTO "${schema}".naive_log (${LOG_COLS}) VALUES (${LOG_COLS.split(',').map((_, k) => `$${k + 1}`).join(', ')})`;
    const t0 = performance.now();
    for (let i = 0; i < events.length; i++) {
      const v = logValues(events[i]!, i, now);
      v[22] = '{}';
      await c.query(sql, v);
    }
    return (events.length / (performance.now() - t0)) * 1000;
  });
}

async function main(): Promise<void> {
  const schema = `bench_ingest_${randomBytes(4).toString('hex')}`;
  await setUp(schema);
  try {
    const fresh = (events: AuditEvent[]) => events.map((e) => ({ ...e, eventId: randomUUID() }));
    const events = Array.from({ length: N }, (_, i) => event(i));
    const raw: number[] = [];
    const pipe: number[] = [];
    // Interleaved rounds so machine noise hits each contender alike; medians reported.
    for (let round = 0; round < ROUNDS; round++) {
      raw.push(await runRawCopy(schema, fresh(events)));
      pipe.push(await runPipeline(schema, fresh(events), 'none'));
      process.stderr.write(`round ${round + 1}: raw COPY ${Math.round(raw[round]!)}/s, pipeline ${Math.round(pipe[round]!)}/s\n`);
    }
    const naive = await runNaive(schema, fresh(events.slice(0, N_NAIVE)));
    const pipeBatchFsync = await runPipeline(schema, fresh(events), 'batch');
    const writerAlone = await runWriterAlone(schema, fresh(events));
    const spoolAlone = runSpoolAlone(fresh(events));
    report({ raw: median(raw), pipe: median(pipe), naive, pipeBatchFsync, writerAlone, spoolAlone });
  } finally {
    await withClient((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function report(r: { raw: number; pipe: number; naive: number; pipeBatchFsync: number; writerAlone: number; spoolAlone: number }): void {
  const f = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
  const vsNaive = r.pipe / r.naive;
  const vsRaw = r.pipe / r.raw;
  const body = `## Audit ingest (bench/ingest)

\`node --import tsx bench/ingest/run.ts\` — ${new Date().toISOString().slice(0, 16)}Z, Node ${process.version}, ${cpus().length} cores (shared), PostgreSQL at ${new globalThis.URL(URL).host}.
${N.toLocaleString('en-US')} events per round (old design: ${N_NAIVE.toLocaleString('en-US')}), batch size ${BATCH}, one run, side by side; pipeline and raw COPY: median of ${ROUNDS} interleaved rounds.

| path | events/s | ratio |
|---|---:|---:|
| **pipeline**: enqueue → spool (fsync none) → batch → hash chain → COPY, committed | **${f(r.pipe)}** | 1.00 |
| pipeline with spoolFsync 'batch' | ${f(r.pipeBatchFsync)} | ${(r.pipeBatchFsync / r.pipe).toFixed(2)} |
| (a) one awaited INSERT per event (old design) | ${f(r.naive)} | pipeline = **${vsNaive.toFixed(1)}x** (target ≥ 20x: ${vsNaive >= 20 ? 'met' : 'MISSED'}) |
| (b) raw COPY of the same rows, no validation/chain/spool (ceiling) | ${f(r.raw)} | pipeline = **${vsRaw.toFixed(2)}x** (target ≥ 0.7x: ${vsRaw >= 0.7 ? 'met' : 'MISSED'}) |
| diagnostic: store writer alone (writeBatch loop, no spool) | ${f(r.writerAlone)} | ${(r.writerAlone / r.pipe).toFixed(2)}x pipeline |
| diagnostic: spool alone (enqueue, no database) | ${f(r.spoolAlone)} | ${(r.spoolAlone / r.pipe).toFixed(1)}x pipeline |
`;
  process.stdout.write(body + '\n');
  process.stdout.write(`wrote ${writeResultsSection('ingest', body)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});
