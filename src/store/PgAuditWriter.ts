/**
 * The Postgres AuditWriter: one transaction per batch that locks the stream's
 * head, skips events already stored, chains the rest, COPYs them into
 * audit_log (and their personal data into audit_personal) and advances the head.
 */
import { hostname } from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { copyField, copyTextArray } from './copy';
import { StoreError, toStoreError } from './errors';
import { chainHash } from './HashChain';
import type { ChainRow } from './HashChain';
import { checkName, DEFAULT_SCHEMA, quoteIdent } from './identifiers';
import { prepareRow } from './rows';
import type { PreparedRow } from './rows';
import type { AuditRecord, AuditWriter, BatchResult, PgAuditWriterOptions } from './types';

const LOG_COLUMNS = 'event_id, created_at, recorded_at, action, category, severity, outcome, reason, actor_type, user_id, user_role, '
  + 'session_id, resource_type, resource_id, details, old_value, new_value, affected_records, trace_id, span_id, service_name, '
  + 'schema_valid, schema_errors, pii_hmac, stream_id, seq, prev_hash, hash';
const MAX_REPLAY_ATTEMPTS = 3;

/** Creates the Postgres writer of one hash-chain stream. */
export function createPgAuditWriter(options: PgAuditWriterOptions): AuditWriter {
  return new PgAuditWriter(options);
}

class PgAuditWriter implements AuditWriter {
  readonly streamId: string;
  private readonly pool: pg.Pool;
  private readonly ownPool: boolean;
  private readonly s: string;
  private readonly piiKey: Buffer;
  private readonly host: string;
  private readonly pid: number;
  private readonly quiet: <T>(work: () => Promise<T>) => Promise<T>;
  private readonly months = new Set<string>();
  private streamRegistered = false;
  private closed = false;

  constructor(o: PgAuditWriterOptions) {
    if (typeof o.streamId !== 'string' || o.streamId.length === 0 || o.streamId.length > 200) {
      throw new TypeError(`streamId must be a non-empty string of at most 200 characters, got ${JSON.stringify(o.streamId)}`);
    }
    if (!Buffer.isBuffer(o.piiKey) || o.piiKey.length < 16) {
      throw new TypeError('piiKey must be a Buffer of at least 16 bytes (the HMAC key for personal data)');
    }
    this.streamId = o.streamId;
    this.s = quoteIdent(checkName('schema', o.schema ?? DEFAULT_SCHEMA));
    this.piiKey = o.piiKey;
    this.host = o.host ?? hostname();
    this.pid = o.pid ?? process.pid;
    this.quiet = o.runQuietly ?? ((work) => work());
    this.ownPool = !o.pool;
    this.pool = o.pool ?? new pg.Pool({
      ...(o.connectionString ? { connectionString: o.connectionString } : {}),
      max: 2,
      application_name: 'cvd-activity-writer',
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
    });
    if (this.ownPool) this.pool.on('error', (err) => o.onBackgroundError?.(err));
  }

  async writeBatch(records: readonly AuditRecord[]): Promise<BatchResult> {
    if (this.closed) throw new StoreError(`audit writer of stream ${this.streamId} is closed: cannot write after close()`);
    if (records.length === 0) return { inserted: 0, duplicates: 0 };
    const fallbackMs = Date.now();
    const prepared: PreparedRow[] = [];
    const seen = new Set<string>();
    for (const record of records) {
      const row = prepareRow(record, this.piiKey, fallbackMs);
      const key = `${row.eventId}|${row.createdMs}`;
      if (seen.has(key)) continue; // the same event twice in one batch
      seen.add(key);
      prepared.push(row);
    }
    const inBatchDuplicates = records.length - prepared.length;
    return this.quiet(async () => {
      try {
        await this.ensurePartitions(prepared);
      } catch (err) {
        throw toStoreError(err, 'creating audit_log partitions');
      }
      for (let attempt = 1; ; attempt++) {
        try {
          const result = await this.writeOnce(prepared);
          return { inserted: result.inserted, duplicates: result.duplicates + inBatchDuplicates };
        } catch (err) {
          const e = toStoreError(err, `writing a batch of ${prepared.length} audit events`);
          // Another process committed one of these events meanwhile: the next
          // attempt finds it stored and skips it.
          if (e.sqlState === '23505' && attempt < MAX_REPLAY_ATTEMPTS) continue;
          throw e;
        }
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownPool) await this.pool.end();
  }

  /** Creates the monthly partitions this batch needs that this writer has not seen yet. */
  private async ensurePartitions(rows: readonly PreparedRow[]): Promise<void> {
    const missing = new Map<string, string>();
    for (const row of rows) {
      const month = row.createdAt.slice(0, 7);
      if (!this.months.has(month)) missing.set(month, row.createdAt);
    }
    if (missing.size === 0) return;
    await this.pool.query(`SELECT ${this.s}.audit_ensure_partitions($1::timestamptz[])`, [[...missing.values()]]);
    for (const month of missing.keys()) this.months.add(month);
  }

  private async writeOnce(rows: readonly PreparedRow[]): Promise<BatchResult> {
    const client = await this.pool.connect();
    let failure: unknown;
    const onError = (err: Error) => { failure ??= err; };
    client.on('error', onError); // a socket error between queries must not crash the host app
    try {
      await client.query('BEGIN');
      if (!this.streamRegistered) {
        await client.query(`INSERT INTO ${this.s}.audit_streams (stream_id, host, pid) VALUES ($1, $2, $3) ON CONFLICT (stream_id) DO NOTHING`,
          [this.streamId, this.host, this.pid]);
      }
      const head = await client.query<{ head_seq: string; head_hash: string | null }>(
        `SELECT head_seq, head_hash FROM ${this.s}.audit_streams WHERE stream_id = $1 FOR UPDATE`, [this.streamId]);
      const fresh = await this.withoutStored(client, rows);
      let seq = Number(head.rows[0]!.head_seq);
      let prevHash = head.rows[0]!.head_hash;
      if (fresh.length > 0) {
        const recordedAt = new Date().toISOString();
        let log = '';
        let personal = '';
        for (const row of fresh) {
          seq += 1;
          const chained: ChainRow = { ...row, streamId: this.streamId, seq, prevHash, recordedAt };
          const hash = chainHash(chained);
          log += logLine(chained, hash);
          if (row.personal) {
            const p = row.personal;
            personal += `${row.eventId}\t${row.createdAt}\t${copyField(p.clientAddress)}\t${copyField(p.userAgent)}\t${copyField(p.fields)}\n`;
          }
          prevHash = hash;
        }
        await copyInto(client, `COPY ${this.s}.audit_log (${LOG_COLUMNS}) FROM STDIN`, log);
        if (personal) {
          await copyInto(client, `COPY ${this.s}.audit_personal (event_id, created_at, client_address, user_agent, fields) FROM STDIN`, personal);
        }
        await client.query(`UPDATE ${this.s}.audit_streams SET head_seq = $2, head_hash = $3, host = $4, pid = $5, updated_at = now() WHERE stream_id = $1`,
          [this.streamId, seq, prevHash, this.host, this.pid]);
      }
      await client.query('COMMIT');
      this.streamRegistered = true;
      return { inserted: fresh.length, duplicates: rows.length - fresh.length };
    } catch (err) {
      failure ??= err;
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.off('error', onError);
      client.release(failure ? true : undefined); // a failed connection is discarded, not reused
    }
  }

  /** The rows whose (event id, event time) is not stored yet. */
  private async withoutStored(client: PoolClient, rows: readonly PreparedRow[]): Promise<readonly PreparedRow[]> {
    let min = Infinity;
    let max = -Infinity;
    for (const row of rows) {
      if (row.createdMs < min) min = row.createdMs;
      if (row.createdMs > max) max = row.createdMs;
    }
    const { rows: stored } = await client.query<{ id: string; at: Date }>(
      `SELECT event_id::text AS id, created_at AS at FROM ${this.s}.audit_log
        WHERE event_id = ANY($1::uuid[]) AND created_at BETWEEN $2 AND $3`,
      [rows.map((r) => r.eventId), new Date(min).toISOString(), new Date(max).toISOString()]);
    if (stored.length === 0) return rows;
    const known = new Set(stored.map((r) => `${r.id}|${r.at.getTime()}`));
    return rows.filter((r) => !known.has(`${r.eventId}|${r.createdMs}`));
  }
}

function logLine(r: ChainRow, hash: string): string {
  return `${r.eventId}\t${r.createdAt}\t${r.recordedAt}\t${copyField(r.action)}\t${copyField(r.category)}\t${copyField(r.severity)}\t`
    + `${copyField(r.outcome)}\t${copyField(r.reason)}\t${copyField(r.actorType)}\t${copyField(r.userId)}\t${copyField(r.userRole)}\t`
    + `${copyField(r.sessionId)}\t${copyField(r.resourceType)}\t${copyField(r.resourceId)}\t${copyField(r.details)}\t`
    + `${copyField(r.oldValue)}\t${copyField(r.newValue)}\t${copyField(r.affectedRecords)}\t${copyField(r.traceId)}\t`
    + `${copyField(r.spanId)}\t${copyField(r.serviceName)}\t${copyField(r.schemaValid)}\t${copyTextArray(r.schemaErrors)}\t`
    + `${copyField(r.piiHmac)}\t${copyField(r.streamId)}\t${r.seq}\t${copyField(r.prevHash)}\t${hash}\n`;
}

async function copyInto(client: PoolClient, sql: string, text: string): Promise<void> {
  await pipeline(Readable.from([Buffer.from(text, 'utf8')]), client.query(copyFrom(sql)));
}
