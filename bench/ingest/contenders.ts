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
import { chainHashOfOwnRow, PiiHasher } from '../../src/store/canonicalEncoding';
import type { ChainLink } from '../../src/store/canonicalEncoding';
import { createPgAuditWriter } from '../../src/store/PgAuditWriter';
import { completeRow, identifyRow } from '../../src/store/rows';
import { benchRecorder, recordOne } from './events';
import { cpuWindow } from './machineCpu';
import type { CpuSpent } from './machineCpu';

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

/** What one run of a contender measured: events/s, and the CPU spent while its clock ran (nothing before or after). */
export interface Run {
  rate: number;
  cpu: CpuSpent;
}

/** Starts a run's clock and CPU window; `stop(n)` ends both, for `n` events. */
function startClock(): { stop: (n: number) => Run } {
  const window = cpuWindow();
  const t0 = performance.now();
  return {
    stop: (n) => {
      const ms = performance.now() - t0;
      return { rate: (n / ms) * 1000, cpu: window.stop() };
    },
  };
}

/** Rows of one stream (through the (stream_id, seq) index: no scan of the whole table between runs). */
async function countStream(schema: string, streamId: string): Promise<number> {
  return withClient(async (c) =>
    Number((await c.query(`SELECT count(*) FROM "${schema}".audit_log WHERE stream_id = $1`, [streamId])).rows[0].count));
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
): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'cvd-bench-spool-'));
  const base = defaultConfig({});
  const config: CvdActivityConfig = { ...base, pipeline: { ...base.pipeline, spoolMaxBytes: 4 * 2 ** 30, ...tuning, spoolDir: dir } };
  const handle = createAuditPipeline(config, {
    writerFactory: ({ streamId }) => createPgAuditWriter({ connectionString: DB_URL, schema, streamId, piiKey }),
  });
  const recorder = benchRecorder(handle.sink);
  const clock = startClock();
  // An app records events from many request handlers: the event loop gets a turn every RECORD_CHUNK events.
  for (let i = 0; i < n; i += chunk) {
    for (let k = i; k < Math.min(n, i + chunk); k++) recordOne(recorder, offset + k);
    await new Promise((r) => setImmediate(r));
  }
  await handle.sink.forceFlush(600_000);
  const run = clock.stop(n);
  await handle.sink.shutdown();
  rmSync(dir, { recursive: true, force: true });
  const stored = await countStream(schema, handle.status().streamId); // a fresh stream per run
  if (stored !== n) throw new Error(`pipeline stored ${stored} of ${n} events`);
  return run;
}

const LOG_COLS = 'event_id, created_at, recorded_at, action, category, severity, outcome, reason, actor_type, user_id, user_role, session_id, '
  + 'resource_type, resource_id, details, old_value, new_value, affected_records, trace_id, span_id, service_name, schema_valid, schema_errors, '
  + 'pii_hmac, stream_id, seq, prev_hash, hash';

/**
 * The rows of the baselines: the events as the pipeline stores them, chain
 * columns included (a stream id of the pipeline's form, the HMAC of the
 * personal data, the previous and own hash), so the baselines write the same
 * values, not look-alikes. Made before a baseline's clock starts: the
 * baselines do none of this work.
 */
export interface BaselineRows {
  events: readonly AuditEvent[];
  streamId: string;
  seq0: number;
  recordedAt: string;
  piiHmac: (string | null)[];
  prevHash: (string | null)[];
  hash: string[];
}

/** Chains `events` from seq `seq0 + 1` of a fresh stream, as the writer would (see BaselineRows). */
export function baselineRows(events: readonly AuditEvent[], seq0: number, piiKey: Buffer): BaselineRows {
  const pii = new PiiHasher(piiKey);
  const streamId = `bench-host:${process.pid}:${seq0.toString(16).padStart(8, '0')}`;
  const recordedAt = new Date().toISOString();
  const link: ChainLink = { streamId, seq: seq0, prevHash: null };
  const out: BaselineRows = { events, streamId, seq0, recordedAt, piiHmac: [], prevHash: [], hash: [] };
  const now = Date.now();
  for (const e of events) {
    const row = completeRow(identifyRow(e, now), pii);
    row.recordedAt = recordedAt;
    link.seq += 1;
    const hash = chainHashOfOwnRow(link, row);
    out.piiHmac.push(row.piiHmac);
    out.prevHash.push(link.prevHash);
    out.hash.push(hash);
    link.prevHash = hash;
  }
  return out;
}

function logValues(rows: BaselineRows, i: number): (string | number | boolean | null)[] {
  const e = rows.events[i]!;
  const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));
  return [e.eventId, e.occurredAt, rows.recordedAt, e.action, e.category, e.severity, e.outcome, e.reason, e.actor.type, e.actor.id,
    e.actor.roles.join(',') || null, e.actor.sessionId, e.resourceType, e.resourceId, JSON.stringify(e.details), json(e.oldValue),
    json(e.newValue), e.affectedRecords, e.traceId, e.spanId, e.serviceName, e.schemaValid, null, rows.piiHmac[i]!, rows.streamId,
    rows.seq0 + i + 1, rows.prevHash[i]!, rows.hash[i]!];
}

function logLine(rows: BaselineRows, i: number): string {
  const v = logValues(rows, i);
  let line = '';
  for (let k = 0; k < v.length; k++) line += (k ? '\t' : '') + (k === 22 ? copyTextArray(rows.events[i]!.schemaErrors) : copyField(v[k]!));
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
export async function runRawCopy(schema: string, rows: BaselineRows, tables: 'same' | 'plain' = 'same'): Promise<Run> {
  const [log, personal] = tables === 'same' ? ['audit_log', 'audit_personal'] : ['plain_log', 'plain_personal'];
  const events = rows.events;
  return withClient(async (c) => {
    const clock = startClock();
    await c.query('BEGIN');
    await streamCopy(c, `COPY "${schema}".${log} (${LOG_COLS}) FROM STDIN`, events, (_, i) => logLine(rows, i));
    await streamCopy(c, `COPY "${schema}".${personal} (event_id, client_address, user_agent, fields) FROM STDIN`, events, (e) =>
      `${e.eventId}\t${copyField(e.personal.clientAddress)}\t${copyField(e.personal.userAgent)}\t${copyField(JSON.stringify(e.personal.fields))}\n`);
    await c.query('COMMIT');
    return clock.stop(events.length);
  });
}

/** (a) The old design: one awaited INSERT per event (one row with everything), each its own transaction. */
export async function runNaive(schema: string, rows: BaselineRows): Promise<Run> {
  const events = rows.events;
  return withClient(async (c) => {
    const sql = `INSERT INTO "${schema}".naive_log (${LOG_COLS}) VALUES (${LOG_COLS.split(',').map((_, k) => `$${k + 1}`).join(', ')})`;
    const clock = startClock();
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      const v = logValues(rows, i);
      v[22] = `{${e.schemaErrors.map((s) => JSON.stringify(s)).join(',')}}`;
      await c.query(sql, v);
    }
    return clock.stop(events.length);
  });
}

/** Diagnostic: the store writer alone (writeBatch in a loop, no record(), no spool). */
export async function runWriterAlone(schema: string, events: readonly AuditEvent[], piiKey: Buffer, batch: number): Promise<Run> {
  const writer = createPgAuditWriter({ connectionString: DB_URL, schema, streamId: `writer-alone-${events[0]!.eventId}`, piiKey });
  const clock = startClock();
  for (let i = 0; i < events.length; i += batch) await writer.writeBatch(events.slice(i, i + batch));
  const run = clock.stop(events.length);
  await writer.close();
  return run;
}

/** Diagnostic: record() + spool append, no database. */
export async function runRecordAndSpool(n: number, offset: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'cvd-bench-spool-'));
  const base = defaultConfig({});
  const config: CvdActivityConfig = { ...base, pipeline: { ...base.pipeline, spoolMaxBytes: 4 * 2 ** 30, spoolDir: dir } };
  const handle = createAuditPipeline(config, { writerFactory: null });
  const recorder = benchRecorder(handle.sink);
  const clock = startClock();
  for (let i = 0; i < n; i++) recordOne(recorder, offset + i);
  const run = clock.stop(n);
  await handle.sink.shutdown();
  rmSync(dir, { recursive: true, force: true });
  return run;
}
