/**
 * The Postgres AuditWriter: one transaction per batch that chains the events
 * onto the stream's head, COPYs them into audit_log (and their personal data
 * into audit_personal) and advances the head. Batches may overlap: the next
 * one is hashed and COPYed while the previous one commits, and commits only
 * after it, onto exactly the head it left (see docs/audit-trail.md, "The writer").
 */
import { hostname } from 'node:os';
import pg from 'pg';
import type { PoolClient } from 'pg';
import { copyChained, copyInto, LOG_COLUMNS, PERSONAL_COLUMNS, storedQuery, withoutStored } from './copyRows';
import { StoreDataError, StoreError, StoreUnavailableError, toStoreError } from './errors';
import { PiiHasher } from './canonicalEncoding';
import type { ChainLink } from './canonicalEncoding';
import { BatchOrder } from './BatchOrder';
import { quarantineRecord } from './quarantine';
import type { Turn } from './BatchOrder';
import { checkName, DEFAULT_SCHEMA, quoteIdent, quoteLiteral } from './identifiers';
import { completeRow, identifyRow } from './rows';
import type { IdentifiedRow, PreparedRow } from './rows';
import type { AuditRecord, AuditWriter, BatchResult, PgAuditWriterOptions } from './types';

const MAX_REPLAY_ATTEMPTS = 3;
/** Longest a batch waits for its stream's head lock before failing as StoreUnavailableError (retriable). */
const LOCK_TIMEOUT_MS = 30_000;
const PREVIOUS_FAILED = 'the previous batch of this stream failed, so this one is not committed (rows are chained in order); it is retried';

/** Creates the Postgres writer of one hash-chain stream. */
export function createPgAuditWriter(options: PgAuditWriterOptions): AuditWriter {
  return new PgAuditWriter(options);
}

class PgAuditWriter implements AuditWriter {
  readonly streamId: string;
  readonly overlapsBatches = true;
  private readonly pool: pg.Pool;
  private readonly ownPool: boolean;
  /** The schema, as a quoted identifier. */
  private readonly schema: string;
  /** The stream id as a quoted literal. */
  private readonly stream: string;
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
  /** Head after the rows of the latest call were hashed (committed or still in flight); null: read it from the database. */
  private head: ChainLink | null = null;
  /** Call order of overlapping writeBatch calls. */
  private readonly order = new BatchOrder();

  constructor(options: PgAuditWriterOptions) {
    if (typeof options.streamId !== 'string' || options.streamId.length === 0 || options.streamId.length > 200) {
      throw new TypeError(`streamId must be a non-empty string of at most 200 characters, got ${JSON.stringify(options.streamId)}`);
    }
    if (!Buffer.isBuffer(options.piiKey) || options.piiKey.length < 16) {
      throw new TypeError('piiKey must be a Buffer of at least 16 bytes (the HMAC key for personal data)');
    }
    this.streamId = options.streamId;
    this.stream = quoteLiteral(options.streamId);
    this.schema = quoteIdent(checkName('schema', options.schema ?? DEFAULT_SCHEMA));
    this.pii = new PiiHasher(options.piiKey);
    this.host = options.host ?? hostname();
    this.pid = options.pid ?? process.pid;
    this.quiet = options.runQuietly ?? ((work) => work());
    this.ownPool = !options.pool;
    this.pool = options.pool ?? new pg.Pool({
      ...(options.connectionString ? { connectionString: options.connectionString } : {}),
      max: 2,
      application_name: 'cvd-activity-writer',
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
      allowExitOnIdle: true, // an idle writer connection must not keep an app that is exiting alive
      keepAlive: true,
      query_timeout: 120_000, // a server that stops answering must not hang the pipeline forever
    });
    if (this.ownPool) this.pool.on('error', (err) => options.onBackgroundError?.(err));
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
    const turn = this.order.next();
    try {
      const result = await this.quiet(() => this.write(identified, turn));
      this.lookUpFirst = false;
      turn.committed(true);
      return { inserted: result.inserted, duplicates: result.duplicates + inBatchDuplicates };
    } catch (err) {
      // Replays follow failures: look up stored events next time, and read the head from the database.
      this.lookUpFirst = true;
      this.head = null;
      turn.committed(false);
      throw toStoreError(err, `writing a batch of ${identified.length} audit events`);
    } finally {
      turn.chained();
    }
  }

  /** Keeps an event the database refused for its content in audit_quarantine, outside the chain. */
  async quarantine(record: AuditRecord, error: StoreError): Promise<void> {
    try {
      await this.quiet(() => quarantineRecord(this.pool, this.schema, record, { error, streamId: this.streamId }));
    } catch (err) {
      throw toStoreError(err, `quarantining audit event ${String(record.eventId)}`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownPool) await this.pool.end();
  }

  private async write(rows: readonly IdentifiedRow[], turn: Turn): Promise<BatchResult> {
    try {
      await this.ensurePartitions(rows);
    } catch (err) {
      throw toStoreError(err, 'creating audit_log partitions');
    }
    await turn.prevChained;
    // Replays follow failures and restarts: only then look up stored events
    // before inserting. Otherwise the unique index is the guard, and a
    // conflict (another process replaying the same events) makes the next
    // attempt look up.
    let lookUp = this.lookUpFirst;
    for (let attempt = 1; ; attempt++) {
      const head = this.head;
      try {
        return head !== null && !lookUp ? await this.writeAhead(rows, head, turn) : await this.writeLocked(rows, lookUp, turn);
      } catch (err) {
        const e = toStoreError(err, `writing a batch of ${rows.length} audit events`);
        if (e.sqlState === '23505' && attempt < MAX_REPLAY_ATTEMPTS) {
          lookUp = true;
          continue;
        }
        throw e;
      }
    }
  }

  /** Creates the monthly partitions this batch needs that this writer has not seen yet. */
  private async ensurePartitions(rows: readonly IdentifiedRow[]): Promise<void> {
    const missing = new Map<string, string>();
    for (const row of rows) {
      const month = row.createdAt.slice(0, 7);
      if (!this.months.has(month)) missing.set(month, row.createdAt);
    }
    if (missing.size === 0) return;
    await this.pool.query(`SELECT ${this.schema}.audit_ensure_partitions($1::timestamptz[])`, [[...missing.values()]]);
    for (const month of missing.keys()) this.months.add(month);
  }

  /**
   * The careful way (first batch, after any failure, replays): once the
   * previous call committed, lock the head, skip stored events, chain from
   * the head as stored.
   */
  private async writeLocked(rows: readonly IdentifiedRow[], lookUp: boolean, turn: Turn): Promise<BatchResult> {
    if (!(await turn.prevCommitted)) throw new StoreUnavailableError(PREVIOUS_FAILED);
    return this.withTransaction(async (client) => {
      // Round trips dominate on a busy host, so statements whose values are
      // safe to inline (validated UUIDs, ISO times, hex, integers, quoted
      // literals) go to the server together: open + lock + dedupe in one trip.
      const opening = await client.query(`BEGIN; SET LOCAL lock_timeout = '${LOCK_TIMEOUT_MS}ms';${this.streamRegistered ? '' : `
        INSERT INTO ${this.schema}.audit_streams (stream_id, host, pid) VALUES (${this.stream}, ${quoteLiteral(this.host)}, ${this.pid})
          ON CONFLICT (stream_id) DO NOTHING;`}
        SELECT head_seq::text AS head_seq, head_hash FROM ${this.schema}.audit_streams WHERE stream_id = ${this.stream} FOR UPDATE;
        ${lookUp ? storedQuery(this.schema, rows) : ''}`) as unknown as pg.QueryResult[];
      const results = opening.filter((r) => r.command === 'SELECT');
      const stored = results[0]!.rows[0] as { head_seq: string; head_hash: string | null };
      const fresh = lookUp ? withoutStored(rows, results[1]!.rows as Array<{ id: string; ms: string }>) : rows;
      const link: ChainLink = { streamId: this.streamId, seq: Number(stored.head_seq), prevHash: stored.head_hash };
      if (fresh.length === 0) {
        this.chainedTo(link, turn);
        await client.query('COMMIT');
      } else {
        await this.copyRows(client, fresh, link, turn);
        await client.query(`${this.advanceHead(link)}; COMMIT`);
      }
      this.streamRegistered = true;
      return { inserted: fresh.length, duplicates: rows.length - fresh.length };
    });
  }

  /**
   * The fast way, while batches succeed: chain from the head the previous
   * call left in memory and COPY at once, even while that call is still
   * committing; then, once it committed, move the head in the database only if
   * it is still exactly where this batch was chained from (else roll back).
   */
  private async writeAhead(rows: readonly IdentifiedRow[], head: ChainLink, turn: Turn): Promise<BatchResult> {
    return this.withTransaction(async (client) => {
      const begun = client.query(`BEGIN; SET LOCAL lock_timeout = '${LOCK_TIMEOUT_MS}ms'`); // queued: the rows are hashed meanwhile
      begun.catch(() => {}); // awaited below
      const link: ChainLink = { ...head };
      await this.copyRows(client, rows, link, turn);
      await begun;
      if (!(await turn.prevCommitted)) throw new StoreUnavailableError(PREVIOUS_FAILED);
      // Move the head and commit in one round trip, but only if the head is still where this batch was
      // chained from: if the UPDATE matched no row, 1/0 aborts the transaction and COMMIT never runs.
      try {
        await client.query(`WITH moved AS (${this.advanceHead(link)} AND head_seq = ${head.seq} AND head_hash IS NOT DISTINCT FROM ${
          head.prevHash === null ? 'NULL' : quoteLiteral(head.prevHash)} RETURNING 1)
          SELECT 1 / (SELECT count(*)::int FROM moved); COMMIT`);
      } catch (err) {
        if ((err as { code?: string }).code !== '22012') throw err;
        throw new StoreUnavailableError(`the head of stream ${this.streamId} moved while a batch was chained onto it; the batch is rolled back and retried`);
      }
      return { inserted: rows.length, duplicates: 0 };
    });
  }

  /** UPDATE of the stream's head to `link` (append conditions with AND). */
  private advanceHead(link: ChainLink): string {
    return `UPDATE ${this.schema}.audit_streams SET head_seq = ${link.seq}, head_hash = ${quoteLiteral(link.prevHash!)},
          host = ${quoteLiteral(this.host)}, pid = ${this.pid}, updated_at = now() WHERE stream_id = ${this.stream}`;
  }

  /** Runs `work` on a pooled connection; rolls back on failure and discards a failed connection. */
  private async withTransaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let failure: unknown;
    const onError = (err: Error) => { failure ??= err; };
    client.on('error', onError); // a socket error between queries must not crash the host app
    try {
      return await work(client);
    } catch (err) {
      failure ??= err;
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.off('error', onError);
      client.release(failure ? true : undefined); // a failed connection is not reused
    }
  }

  /** COPYs the rows (chained from `link`, which ends at the last row) and their personal data. */
  private async copyRows(client: PoolClient, rows: readonly IdentifiedRow[], link: ChainLink, turn: Turn): Promise<void> {
    const sql = `COPY ${this.schema}.audit_log (${LOG_COLUMNS}) FROM STDIN`;
    const personal = await copyChained(client, { sql, rows, link, complete: (row) => this.completed(row), onChained: () => this.chainedTo(link, turn) });
    if (personal) await copyInto(client, `COPY ${this.schema}.audit_personal (${PERSONAL_COLUMNS}) FROM STDIN`, personal);
  }

  /** Every stored value of a row: from prepare() when it ran, else computed now. */
  private completed(id: IdentifiedRow): PreparedRow {
    const row = this.prepared.get(id.record)?.row;
    if (row) return row;
    try {
      return completeRow(id, this.pii);
    } catch (err) {
      throw new StoreDataError(`audit event ${id.eventId} cannot be encoded: ${(err as Error).message}`, { cause: err });
    }
  }

  /** The rows of this call are hashed up to `link`: the next call may chain on. */
  private chainedTo(link: ChainLink, turn: Turn): void {
    this.head = { ...link };
    turn.chained();
  }
}
