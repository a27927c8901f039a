/** COPY text of stored rows, and the SQL the writer inlines (values validated or quoted first). */
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { copyField, copyTextArray } from './copy';
import { chainHashOfOwnRow } from './canonicalEncoding';
import type { ChainLink, ChainRow } from './canonicalEncoding';
import type { IdentifiedRow, PreparedPersonal, PreparedRow } from './rows';

/** COPY data is sent in pieces of about this size, so the server works while the next piece is hashed. */
const COPY_CHUNK_CHARS = 64 * 1024;

/** Columns of audit_log in the order `logLine` writes them. */
export const LOG_COLUMNS = 'event_id, created_at, recorded_at, action, category, severity, outcome, reason, actor_type, user_id, user_role, '
  + 'session_id, resource_type, resource_id, details, old_value, new_value, affected_records, trace_id, span_id, service_name, '
  + 'schema_valid, schema_errors, pii_hmac, stream_id, seq, prev_hash, hash';

/** Columns of audit_personal in the order `personalLine` writes them. */
export const PERSONAL_COLUMNS = 'event_id, client_address, user_agent, fields';

/** One audit_log row in COPY text format. */
export function logLine(link: ChainLink, row: ChainRow, hash: string): string {
  return `${row.eventId}\t${row.createdAt}\t${row.recordedAt}\t${copyField(row.action)}\t${copyField(row.category)}\t${copyField(row.severity)}\t`
    + `${copyField(row.outcome)}\t${copyField(row.reason)}\t${copyField(row.actorType)}\t${copyField(row.userId)}\t${copyField(row.userRole)}\t`
    + `${copyField(row.sessionId)}\t${copyField(row.resourceType)}\t${copyField(row.resourceId)}\t${copyField(row.details)}\t`
    + `${copyField(row.oldValue)}\t${copyField(row.newValue)}\t${copyField(row.affectedRecords)}\t${copyField(row.traceId)}\t`
    + `${copyField(row.spanId)}\t${copyField(row.serviceName)}\t${copyField(row.schemaValid)}\t${copyTextArray(row.schemaErrors)}\t`
    + `${copyField(row.piiHmac)}\t${copyField(link.streamId)}\t${link.seq}\t${copyField(link.prevHash)}\t${hash}\n`;
}

/** One audit_personal row in COPY text format. */
export function personalLine(eventId: string, personal: PreparedPersonal): string {
  return `${eventId}\t${copyField(personal.clientAddress)}\t${copyField(personal.userAgent)}\t${copyField(personal.fields)}\n`;
}

/** COPYs ready-made text in one piece. */
export async function copyInto(client: PoolClient, sql: string, text: string): Promise<void> {
  await pipeline(Readable.from([Buffer.from(text, 'utf8')]), client.query(copyFrom(sql)));
}

/** SELECT of which of these (event id, event time) pairs are stored; ids are validated UUIDs, so inlining is safe. */
export function storedQuery(schema: string, rows: readonly IdentifiedRow[]): string {
  let min = Infinity;
  let max = -Infinity;
  for (const row of rows) {
    if (row.createdMs < min) min = row.createdMs;
    if (row.createdMs > max) max = row.createdMs;
  }
  return `SELECT event_id::text AS id, (extract(epoch FROM created_at) * 1000)::bigint::text AS ms FROM ${schema}.audit_log
      WHERE event_id = ANY('{${rows.map((r) => r.eventId).join(',')}}'::uuid[])
        AND created_at BETWEEN '${new Date(min).toISOString()}' AND '${new Date(max).toISOString()}'`;
}

/** The rows whose (event id, event time) is not among `stored`. */
export function withoutStored(rows: readonly IdentifiedRow[], stored: ReadonlyArray<{ id: string; ms: string }>): IdentifiedRow[] {
  if (stored.length === 0) return rows.slice();
  const known = new Set(stored.map((r) => `${r.id}|${r.ms}`));
  return rows.filter((r) => !known.has(`${r.eventId}|${r.createdMs}`));
}

/** What copyChained copies, and onto which link. */
export interface ChainedCopy {
  /** The `COPY audit_log (...) FROM STDIN` statement. */
  sql: string;
  rows: readonly IdentifiedRow[];
  /** The head to chain from; advanced to the last row. */
  link: ChainLink;
  /** Each row's stored values (from prepare() or computed now). */
  complete: (row: IdentifiedRow) => PreparedRow;
  /** Called once every row is hashed, before the COPY ends: the next batch may chain on. */
  onChained: () => void;
}

/**
 * Chains and COPYs the rows, a chunk at a time, so the server inserts one
 * chunk while the next is hashed; returns the COPY text of their personal data.
 */
export async function copyChained(client: PoolClient, { sql, rows, link, complete, onChained }: ChainedCopy): Promise<string> {
  // A high-water mark above a batch's size: hashing never waits for the COPY to start.
  const copy = client.query(copyFrom(sql, { highWaterMark: 4 << 20 }));
  const done = finished(copy);
  done.catch(() => {}); // awaited below; an early failure must not be an unhandled rejection
  const recordedAt = new Date().toISOString();
  let personal = '';
  let chunk = '';
  try {
    for (let i = 0; i < rows.length; i++) {
      const row = complete(rows[i]!);
      link.seq += 1;
      row.recordedAt = recordedAt;
      const hash = chainHashOfOwnRow(link, row);
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
