/**
 * The Postgres AuditWriter: one transaction per batch that chains the events
 * onto the stream's head, COPYs them into audit_log (and their personal data
 * into audit_personal) and advances the head. Batches may overlap: the next
 * one is hashed and COPYed while the previous one commits, and commits only
 * after it, onto exactly the head it left (see docs/audit-trail.md, "The writer").
 */
import { hostname } from 'node:os';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import pg from 'pg';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { copyInto, LOG_COLUMNS, logLine, PERSONAL_COLUMNS, personalLine, storedQuery, withoutStored } from './copyRows';
import { StoreDataError, StoreError, StoreUnavailableError, toStoreError } from './errors';
import { chainHash, PiiHasher } from './HashChain';
import type { ChainLink } from './HashChain';
import { checkName, DEFAULT_SCHEMA, quoteIdent, quoteLiteral } from './identifiers';
import { completeRow, identifyRow } from './rows';
import type { IdentifiedRow, PreparedRow } from './rows';
import type { AuditRecord, AuditWriter, BatchResult, PgAuditWriterOptions } from './types';

const MAX_REPLAY_ATTEMPTS = 3;
/** Longest a batch waits for its stream's head lock before failing as StoreUnavailableError (retriable). */
const LOCK_TIMEOUT_MS = 30_000;
/** COPY data is sent in pieces of about this size, so the server works while the next piece is hashed. */
const COPY_CHUNK_CHARS = 64 * 1024;
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
  private readonly s: string;
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
  /** The latest writeBatch call's turn. */
  private last: Turn | null = null;

  constructor(o: PgAuditWriterOptions) {
    if (typeof o.streamId !== 'string' || o.streamId.length === 0 || o.streamId.length > 200) {
      throw new TypeError(`streamId must be a non-empty string of at most 200 characters, got ${JSON.stringify(o.streamId)}`);
    }
    if (!Buffer.isBuffer(o.piiKey) || o.piiKey.length < 16) {
      throw new TypeError('piiKey must be a Buffer of at least 16 bytes (the HMAC key for personal data)');
    }
    this.streamId = o.streamId;
    this.stream = quoteLiteral(o.streamId);
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
    const turn = this.takeTurn();
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

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownPool) await this.pool.end();
  }

  /**
   * This call's place in the stream: it chains after the rows of the call
   * before (once those are hashed, not committed) and commits only after that
   * call committed; if that call was still pending when this one was made and
   * then failed, this one fails too, so rows never commit out of order.
   */
  private takeTurn(): Turn {
    const previous = this.last;
    const pending = previous !== null && !previous.settled;
    const turn: Turn = {
      prevChained: pending ? previous.chainedP : Promise.resolve(),
      prevCommitted: pending ? previous.committedP : Promise.resolve(true),
      chainedP: Promise.resolve(),
      committedP: Promise.resolve(true),
      settled: false,
      chained: () => {},
      committed: () => {},
    };
    turn.chainedP = new Promise<void>((resolve) => (turn.chained = resolve));
    turn.committedP = new Promise<boolean>((resolve) => {
      turn.committed = (ok) => {
        turn.settled = true;
        resolve(ok);
      };
    });
    this.last = turn;
    return turn;
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
    await this.pool.query(`SELECT ${this.s}.audit_ensure_partitions($1::timestamptz[])`, [[...missing.values()]]);
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
        INSERT INTO ${this.s}.audit_streams (stream_id, host, pid) VALUES (${this.stream}, ${quoteLiteral(this.host)}, ${this.pid})
          ON CONFLICT (stream_id) DO NOTHING;`}
        SELECT head_seq::text AS head_seq, head_hash FROM ${this.s}.audit_streams WHERE stream_id = ${this.stream} FOR UPDATE;
        ${lookUp ? storedQuery(this.s, rows) : ''}`) as unknown as pg.QueryResult[];
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
    return `UPDATE ${this.s}.audit_streams SET head_seq = ${link.seq}, head_hash = ${quoteLiteral(link.prevHash!)},
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
    const personal = await this.copyChained(client, rows, link, () => this.chainedTo(link, turn));
    if (personal) await copyInto(client, `COPY ${this.s}.audit_personal (${PERSONAL_COLUMNS}) FROM STDIN`, personal);
  }

  /** The rows of this call are hashed up to `link`: the next call may chain on. */
  private chainedTo(link: ChainLink, turn: Turn): void {
    this.head = { ...link };
    turn.chained();
  }

  /**
   * Completes, chains and COPYs the rows, a chunk at a time, so the server
   * inserts one chunk while the next is hashed. Advances `link` to the last
   * row, calls `onChained` once every row is hashed; returns the COPY text of
   * their personal data.
   */
  private async copyChained(client: PoolClient, rows: readonly IdentifiedRow[], link: ChainLink, onChained: () => void): Promise<string> {
    // A high-water mark above the batch's size: hashing never waits for the COPY to start.
    const copy = client.query(copyFrom(`COPY ${this.s}.audit_log (${LOG_COLUMNS}) FROM STDIN`, { highWaterMark: 4 << 20 }));
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
        if (row.personal) personal += personalLine(row.eventId, row.personal);
        if (chunk.length >= COPY_CHUNK_CHARS || i === rows.length - 1) {
          if (!copy.write(chunk)) await once(copy, 'drain');
          chunk = '';
        }
      }
      onChained();
      copy.end();
    } catch (err) {
      copy.destroy(err as Error); // sends CopyFail: the server aborts the COPY
      await done.catch(() => {});
      throw err;
    }
    await done;
    return personal;
  }
}

/** A writeBatch call's place in its stream (see takeTurn). */
interface Turn {
  prevChained: Promise<void>;
  prevCommitted: Promise<boolean>;
  chainedP: Promise<void>;
  committedP: Promise<boolean>;
  settled: boolean;
  chained(): void;
  committed(ok: boolean): void;
}
