/**
 * The Postgres AuditWriter: one transaction per batch that locks the stream's
 * head, skips events already stored, chains the rest, COPYs them into
 * audit_log (and their personal data into audit_personal) and advances the head.
 */
import { hostname } from 'node:os';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import pg from 'pg';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { copyField, copyTextArray } from './copy';
import { StoreDataError, StoreError, toStoreError } from './errors';
import { chainHash, PiiHasher } from './HashChain';
import type { ChainLink, ChainRow } from './HashChain';
import { checkName, DEFAULT_SCHEMA, quoteIdent, quoteLiteral } from './identifiers';
import { completeRow, identifyRow } from './rows';
import type { IdentifiedRow, PreparedRow } from './rows';
import type { AuditRecord, AuditWriter, BatchResult, PgAuditWriterOptions } from './types';

const LOG_COLUMNS = 'event_id, created_at, recorded_at, action, category, severity, outcome, reason, actor_type, user_id, user_role, '
  + 'session_id, resource_type, resource_id, details, old_value, new_value, affected_records, trace_id, span_id, service_name, '
  + 'schema_valid, schema_errors, pii_hmac, stream_id, seq, prev_hash, hash';
const MAX_REPLAY_ATTEMPTS = 3;
/** Longest a batch waits for its stream's head lock before failing as StoreUnavailableError (retriable). */
const LOCK_TIMEOUT_MS = 30_000;
/** COPY data is sent in pieces of about this size, so the server works while the next piece is hashed. */
const COPY_CHUNK_CHARS = 64 * 1024;

/** Creates the Postgres writer of one hash-chain stream. */
export function createPgAuditWriter(options: PgAuditWriterOptions): AuditWriter {
  return new PgAuditWriter(options);
}

class PgAuditWriter implements AuditWriter {
  readonly streamId: string;
  private readonly pool: pg.Pool;
  private readonly ownPool: boolean;
  private readonly s: string;
  private readonly pii: PiiHasher;
  private readonly host: string;
  private readonly pid: number;
  private readonly quiet: <T>(work: () => Promise<T>) => Promise<T>;
  private readonly months = new Set<string>();
  private streamRegistered = false;
  /** Look up stored events before inserting: for the first batch, and after any failure. */
  private lookUpFirst = true;
  /** Work done by prepare(), by record. */
  private readonly prepared = new WeakMap<AuditRecord, { id: IdentifiedRow; row: PreparedRow | null }>();
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
    this.pii = new PiiHasher(o.piiKey);
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
      allowExitOnIdle: true, // an idle writer connection must not keep an app that is exiting alive
      keepAlive: true,
      query_timeout: 120_000, // a server that stops answering must not hang the pipeline forever
    });
    if (this.ownPool) this.pool.on('error', (err) => o.onBackgroundError?.(err));
  }

  prepare(records: readonly AuditRecord[]): void {
    const fallbackMs = Date.now();
    for (const record of records) {
      if (this.prepared.has(record)) continue;
      const id = identifyRow(record, fallbackMs);
      try {
        this.prepared.set(record, { id, row: completeRow(id, this.pii) });
      } catch {
        this.prepared.set(record, { id, row: null }); // writeBatch reports it, as StoreDataError
      }
    }
  }

  async writeBatch(records: readonly AuditRecord[]): Promise<BatchResult> {
    if (this.closed) throw new StoreError(`audit writer of stream ${this.streamId} is closed: cannot write after close()`);
    if (records.length === 0) return { inserted: 0, duplicates: 0 };
    const fallbackMs = Date.now();
    const identified: IdentifiedRow[] = [];
    const seen = new Set<string>();
    for (const record of records) {
      const row = this.prepared.get(record)?.id ?? identifyRow(record, fallbackMs);
      const key = `${row.eventId}|${row.createdMs}`;
      if (seen.has(key)) continue; // the same event twice in one batch
      seen.add(key);
      identified.push(row);
    }
    const inBatchDuplicates = records.length - identified.length;
    return this.quiet(async () => {
      try {
        await this.ensurePartitions(identified);
      } catch (err) {
        this.lookUpFirst = true;
        throw toStoreError(err, 'creating audit_log partitions');
      }
      // Replays follow failures and restarts: only then look up stored events
      // before inserting. Otherwise the unique index is the guard, and a
      // conflict (another process replaying the same events) makes the next
      // attempt look up.
      let lookUp = this.lookUpFirst;
      for (let attempt = 1; ; attempt++) {
        try {
          const result = await this.writeOnce(identified, lookUp);
          this.lookUpFirst = false;
          return { inserted: result.inserted, duplicates: result.duplicates + inBatchDuplicates };
        } catch (err) {
          this.lookUpFirst = true;
          const e = toStoreError(err, `writing a batch of ${identified.length} audit events`);
          if (e.sqlState === '23505' && attempt < MAX_REPLAY_ATTEMPTS) {
            lookUp = true;
            continue;
          }
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
  private async ensurePartitions(rows: readonly IdentifiedRow[]): Promise<void> {
    const missing = new Map<string, string>();
    for (const row of rows) {
      const month = row.createdAt.slice(0, 7);
      if (!this.months.has(month)) missing.set(month, row.createdAt);
    }
    if (missing.size === 0) return;
    await this.pool.query(`SELECT ${this.s}.audit_ensure_partitions($1::timestamptz[])`, [[...missing.values()]]);
    for (const month of missing.keys()) this.months.add(month);
  }

  private async writeOnce(rows: readonly IdentifiedRow[], lookUp: boolean): Promise<BatchResult> {
    const client = await this.pool.connect();
    let failure: unknown;
    const onError = (err: Error) => { failure ??= err; };
    client.on('error', onError); // a socket error between queries must not crash the host app
    try {
      // Round trips dominate on a busy host, so statements whose values are
      // safe to inline (validated UUIDs, ISO times, hex, integers, quoted
      // literals) go to the server together: open + lock + dedupe in one trip.
      const stream = quoteLiteral(this.streamId);
      const opening = await client.query(`BEGIN; SET LOCAL lock_timeout = '${LOCK_TIMEOUT_MS}ms';${this.streamRegistered ? '' : `
        INSERT INTO ${this.s}.audit_streams (stream_id, host, pid) VALUES (${stream}, ${quoteLiteral(this.host)}, ${this.pid})
          ON CONFLICT (stream_id) DO NOTHING;`}
        SELECT head_seq::text AS head_seq, head_hash FROM ${this.s}.audit_streams WHERE stream_id = ${stream} FOR UPDATE;
        ${lookUp ? this.storedQuery(rows) : ''}`) as unknown as pg.QueryResult[];
      const results = opening.filter((r) => r.command === 'SELECT');
      const head = results[0]!.rows[0] as { head_seq: string; head_hash: string | null };
      const fresh = lookUp ? withoutStored(rows, results[1]!.rows as Array<{ id: string; ms: string }>) : rows;
      if (fresh.length > 0) {
        const link: ChainLink = { streamId: this.streamId, seq: Number(head.head_seq), prevHash: head.head_hash };
        const personal = await this.copyChained(client, fresh, link);
        if (personal) {
          await copyInto(client, `COPY ${this.s}.audit_personal (event_id, client_address, user_agent, fields) FROM STDIN`, personal);
        }
        await client.query(`UPDATE ${this.s}.audit_streams SET head_seq = ${link.seq}, head_hash = ${quoteLiteral(link.prevHash!)},
          host = ${quoteLiteral(this.host)}, pid = ${this.pid}, updated_at = now() WHERE stream_id = ${stream}; COMMIT`);
      } else {
        await client.query('COMMIT');
      }
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

  /**
   * Completes, chains and COPYs the rows, a chunk at a time, so the server
   * inserts one chunk while the next is hashed. Advances `link` to the last
   * row; returns the COPY text of their personal data.
   */
  private async copyChained(client: PoolClient, rows: readonly IdentifiedRow[], link: ChainLink): Promise<string> {
    const copy = client.query(copyFrom(`COPY ${this.s}.audit_log (${LOG_COLUMNS}) FROM STDIN`));
    const done = finished(copy);
    done.catch(() => {}); // awaited below; an early failure must not be an unhandled rejection
    const recordedAt = new Date().toISOString();
    let personal = '';
    let chunk = '';
    try {
      for (let i = 0; i < rows.length; i++) {
        let row = this.prepared.get(rows[i]!.record)?.row;
        if (!row) {
          try {
            row = completeRow(rows[i]!, this.pii);
          } catch (err) {
            throw new StoreDataError(`audit event ${rows[i]!.eventId} cannot be encoded: ${(err as Error).message}`, { cause: err });
          }
        }
        link.seq += 1;
        row.recordedAt = recordedAt;
        const hash = chainHash(link, row);
        chunk += logLine(link, row, hash);
        link.prevHash = hash;
        if (row.personal) {
          const p = row.personal;
          personal += `${row.eventId}\t${copyField(p.clientAddress)}\t${copyField(p.userAgent)}\t${copyField(p.fields)}\n`;
        }
        if (chunk.length >= COPY_CHUNK_CHARS || i === rows.length - 1) {
          if (!copy.write(chunk)) await once(copy, 'drain');
          chunk = '';
        }
      }
      copy.end();
    } catch (err) {
      copy.destroy(err as Error); // sends CopyFail: the server aborts the COPY
      await done.catch(() => {});
      throw err;
    }
    await done;
    return personal;
  }

  /** Finds which of these (event id, event time) pairs are stored; ids are validated UUIDs, so inlining is safe. */
  private storedQuery(rows: readonly IdentifiedRow[]): string {
    let min = Infinity;
    let max = -Infinity;
    for (const row of rows) {
      if (row.createdMs < min) min = row.createdMs;
      if (row.createdMs > max) max = row.createdMs;
    }
    return `SELECT event_id::text AS id, (extract(epoch FROM created_at) * 1000)::bigint::text AS ms FROM ${this.s}.audit_log
      WHERE event_id = ANY('{${rows.map((r) => r.eventId).join(',')}}'::uuid[])
        AND created_at BETWEEN '${new Date(min).toISOString()}' AND '${new Date(max).toISOString()}'`;
  }
}

/** The rows whose (event id, event time) is not among `stored`. */
function withoutStored(rows: readonly IdentifiedRow[], stored: ReadonlyArray<{ id: string; ms: string }>): IdentifiedRow[] {
  if (stored.length === 0) return rows.slice();
  const known = new Set(stored.map((r) => `${r.id}|${r.ms}`));
  return rows.filter((r) => !known.has(`${r.eventId}|${r.createdMs}`));
}

function logLine(link: ChainLink, r: ChainRow, hash: string): string {
  return `${r.eventId}\t${r.createdAt}\t${r.recordedAt}\t${copyField(r.action)}\t${copyField(r.category)}\t${copyField(r.severity)}\t`
    + `${copyField(r.outcome)}\t${copyField(r.reason)}\t${copyField(r.actorType)}\t${copyField(r.userId)}\t${copyField(r.userRole)}\t`
    + `${copyField(r.sessionId)}\t${copyField(r.resourceType)}\t${copyField(r.resourceId)}\t${copyField(r.details)}\t`
    + `${copyField(r.oldValue)}\t${copyField(r.newValue)}\t${copyField(r.affectedRecords)}\t${copyField(r.traceId)}\t`
    + `${copyField(r.spanId)}\t${copyField(r.serviceName)}\t${copyField(r.schemaValid)}\t${copyTextArray(r.schemaErrors)}\t`
    + `${copyField(r.piiHmac)}\t${copyField(link.streamId)}\t${link.seq}\t${copyField(link.prevHash)}\t${hash}\n`;
}

async function copyInto(client: PoolClient, sql: string, text: string): Promise<void> {
  await pipeline(Readable.from([Buffer.from(text, 'utf8')]), client.query(copyFrom(sql)));
}
