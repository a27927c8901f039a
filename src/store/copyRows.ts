/** COPY text of stored rows, and the SQL the writer inlines (values validated or quoted first). */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { copyField, copyTextArray } from './copy';
import type { ChainLink, ChainRow } from './HashChain';
import type { IdentifiedRow, PreparedPersonal } from './rows';

/** Columns of audit_log in the order `logLine` writes them. */
export const LOG_COLUMNS = 'event_id, created_at, recorded_at, action, category, severity, outcome, reason, actor_type, user_id, user_role, '
  + 'session_id, resource_type, resource_id, details, old_value, new_value, affected_records, trace_id, span_id, service_name, '
  + 'schema_valid, schema_errors, pii_hmac, stream_id, seq, prev_hash, hash';

/** Columns of audit_personal in the order `personalLine` writes them. */
export const PERSONAL_COLUMNS = 'event_id, client_address, user_agent, fields';

/** One audit_log row in COPY text format. */
export function logLine(link: ChainLink, r: ChainRow, hash: string): string {
  return `${r.eventId}\t${r.createdAt}\t${r.recordedAt}\t${copyField(r.action)}\t${copyField(r.category)}\t${copyField(r.severity)}\t`
    + `${copyField(r.outcome)}\t${copyField(r.reason)}\t${copyField(r.actorType)}\t${copyField(r.userId)}\t${copyField(r.userRole)}\t`
    + `${copyField(r.sessionId)}\t${copyField(r.resourceType)}\t${copyField(r.resourceId)}\t${copyField(r.details)}\t`
    + `${copyField(r.oldValue)}\t${copyField(r.newValue)}\t${copyField(r.affectedRecords)}\t${copyField(r.traceId)}\t`
    + `${copyField(r.spanId)}\t${copyField(r.serviceName)}\t${copyField(r.schemaValid)}\t${copyTextArray(r.schemaErrors)}\t`
    + `${copyField(r.piiHmac)}\t${copyField(link.streamId)}\t${link.seq}\t${copyField(link.prevHash)}\t${hash}\n`;
}

/** One audit_personal row in COPY text format. */
export function personalLine(eventId: string, p: PreparedPersonal): string {
  return `${eventId}\t${copyField(p.clientAddress)}\t${copyField(p.userAgent)}\t${copyField(p.fields)}\n`;
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
