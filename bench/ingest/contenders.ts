/**
 * What bench/ingest times: the product path from record() to committed rows,
 * and the two baselines of the issue (one awaited INSERT per event; raw COPY
 * of the same rows into the same tables), plus diagnostics. Each returns events/s.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { AuditEvent } from '../../src/audit/types';
import type { CvdActivityConfig } from '../../src/config/types';
import { defaultConfig } from '../../src/config/defaults';
import { createAuditPipeline } from '../../src/pipeline/createAuditPipeline';
import { copyField, copyTextArray } from '../../src/store/copy';
import { createPgAuditWriter } from '../../src/store/PgAuditWriter';
import { benchRecorder, recordOne } from './events';

/** Database URL of the shared server. */
export const DB_URL = process.env.CVD_ACTIVITY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Runs `fn` with a fresh connection. */
export async function withClient<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: DB_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function countRows(schema: string): Promise<number> {
  return withClient(async (c) => Number((await c.query(`SELECT count(*) FROM "${schema}".audit_log`)).rows[0].count));
}

/**
 * Events recorded per turn of the event loop. A server records from request
 * handlers, each its own callback, and the event loop serves I/O (the
 * pipeline's database replies too) between them; 100 per turn is already
 * coarser than that. run.ts also reports 1000 per turn.
 */
export const RECORD_CHUNK = Number(process.env.BENCH_RECORD_CHUNK ?? 100);

/** Pipeline settings of a run: the product defaults unless overridden. */
export type PipelineTuning = Partial<CvdActivityConfig['pipeline']>;

/**
 * The product path: `record()` (validation, redaction, context) into the
 * pipeline's sink (spool append before record() returns), batches, hash
 * chain, COPY, one transaction per batch; timed until every row is committed.
 */
export async function runPipeline(
  schema: string, n: number, offset: number, piiKey: Buffer, tuning: PipelineTuning = {}, chunk = RECORD_CHUNK,
): Promise<number> {
  const before = await countRows(schema);
  const dir = mkdtempSync(join(tmpdir(), 'cvd-bench-spool-'));
  const base = defaultConfig({});
  const config: CvdActivityConfig = { ...base, pipeline: { ...base.pipeline, spoolMaxBytes: 4 * 2 ** 30, ...tuning, spoolDir: dir } };
  const handle = createAuditPipeline(config, {
    writerFactory: ({ streamId }) => createPgAuditWriter({ connectionString: DB_URL, schema, streamId, piiKey }),
  });
  const recorder = benchRecorder(handle.sink);
  const t0 = performance.now();
  // An app records events from many request handlers: the event loop gets a turn every RECORD_CHUNK events.
  for (let i = 0; i < n; i += chunk) {
    for (let k = i; k < Math.min(n, i + chunk); k++) recordOne(recorder, offset + k);
    await new Promise((r) => setImmediate(r));
  }
  await handle.sink.forceFlush(600_000);
  const ms = performance.now() - t0;
  await handle.sink.shutdown();
  rmSync(dir, { recursive: true, force: true });
  const stored = (await countRows(schema)) - before;
  if (stored !== n) throw new Error(`pipeline stored ${stored} of ${n} events`);
  return (n / ms) * 1000;
}

const LOG_COLS = 'event_id, created_at, recorded_at, action, category, severity, outcome, reason, actor_type, user_id, user_role, session_id, '
  + 'resource_type, resource_id, details, old_value, new_value, affected_records, trace_id, span_id, service_name, schema_valid, schema_errors, '
  + 'pii_hmac, stream_id, seq, prev_hash, hash';
// Chain and HMAC columns of the same width as the real ones, but not computed.
const FAKE_HASH = 'f'.repeat(64);

function logValues(e: AuditEvent, seq: number, now: string): (string | number | boolean | null)[] {
  const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));
  return [e.eventId, e.occurredAt, now, e.action, e.category, e.severity, e.outcome, e.reason, e.actor.type, e.actor.id, e.actor.roles.join(',') || null,
    e.actor.sessionId, e.resourceType, e.resourceId, JSON.stringify(e.details), json(e.oldValue), json(e.newValue),
    e.affectedRecords, e.traceId, e.spanId, e.serviceName, e.schemaValid, null, FAKE_HASH, 'raw', seq, FAKE_HASH, FAKE_HASH];
}

function logLine(e: AuditEvent, seq: number, now: string): string {
  const v = logValues(e, seq, now);
  let line = '';
  for (let k = 0; k < v.length; k++) line += (k ? '\t' : '') + (k === 22 ? copyTextArray(e.schemaErrors) : copyField(v[k]!));
  return line + '\n';
}

/** COPY from lines made on the fly, 64 KiB at a time, so the server inserts while the next piece is made. */
async function streamCopy(c: pg.Client, sql: string, events: readonly AuditEvent[], line: (e: AuditEvent, i: number) => string): Promise<void> {
  const copy = c.query(copyFrom(sql));
  const done = finished(copy);
  let chunk = '';
  for (let i = 0; i < events.length; i++) {
    chunk += line(events[i]!, i);
    if (chunk.length >= 65_536 || i === events.length - 1) {
      if (!copy.write(chunk)) await once(copy, 'drain');
      chunk = '';
    }
  }
  copy.end();
  await done;
}

/**
 * (b) The ceiling: the same rows (both tables: audit_log and audit_personal)
 * into the same partitioned tables and indexes, streamed with one COPY each
 * in ONE transaction: no validation, chain, HMAC, dedupe or spool, one commit.
 * `tables` 'plain' uses unpartitioned copies of the tables instead (diagnostic).
 */
export async function runRawCopy(schema: string, events: readonly AuditEvent[], seq0: number, tables: 'same' | 'plain' = 'same'): Promise<number> {
  const [log, personal] = tables === 'same' ? ['audit_log', 'audit_personal'] : ['plain_log', 'plain_personal'];
  return withClient(async (c) => {
    const t0 = performance.now();
    const now = new Date().toISOString();
    await c.query('BEGIN');
    await streamCopy(c, `COPY "${schema}".${log} (${LOG_COLS}) FROM STDIN`, events, (e, i) => logLine(e, seq0 + i, now));
    await streamCopy(c, `COPY "${schema}".${personal} (event_id, client_address, user_agent, fields) FROM STDIN`, events, (e) =>
      `${e.eventId}\t${copyField(e.personal.clientAddress)}\t${copyField(e.personal.userAgent)}\t${copyField(JSON.stringify(e.personal.fields))}\n`);
    await c.query('COMMIT');
    return (events.length / (performance.now() - t0)) * 1000;
  });
}

/** (a) The old design: one awaited INSERT per event (one row with everything), each its own transaction. */
export async function runNaive(schema: string, events: readonly AuditEvent[], seq0: number): Promise<number> {
  return withClient(async (c) => {
    const now = new Date().toISOString();
    const sql = `INSERT INTO "${schema}".naive_log (${LOG_COLS}) VALUES (${LOG_COLS.split(',').map((_, k) => `$${k + 1}`).join(', ')})`;
    const t0 = performance.now();
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      const v = logValues(e, seq0 + i, now);
      v[22] = `{${e.schemaErrors.map((s) => JSON.stringify(s)).join(',')}}`;
      await c.query(sql, v);
    }
    return (events.length / (performance.now() - t0)) * 1000;
  });
}

/** Diagnostic: the store writer alone (writeBatch in a loop, no record(), no spool). */
export async function runWriterAlone(schema: string, events: readonly AuditEvent[], piiKey: Buffer, batch: number): Promise<number> {
  const writer = createPgAuditWriter({ connectionString: DB_URL, schema, streamId: `writer-alone-${events[0]!.eventId}`, piiKey });
  const t0 = performance.now();
  for (let i = 0; i < events.length; i += batch) await writer.writeBatch(events.slice(i, i + batch));
  const rate = (events.length / (performance.now() - t0)) * 1000;
  await writer.close();
  return rate;
}

/** Diagnostic: record() + spool append, no database. */
export async function runRecordAndSpool(n: number, offset: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'cvd-bench-spool-'));
  const base = defaultConfig({});
  const config: CvdActivityConfig = { ...base, pipeline: { ...base.pipeline, spoolMaxBytes: 4 * 2 ** 30, spoolDir: dir } };
  const handle = createAuditPipeline(config, { writerFactory: null });
  const recorder = benchRecorder(handle.sink);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) recordOne(recorder, offset + i);
  const rate = (n / (performance.now() - t0)) * 1000;
  await handle.sink.shutdown();
  rmSync(dir, { recursive: true, force: true });
  return rate;
}
