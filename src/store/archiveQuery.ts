/**
 * `audit query --archive <dir>`: the hot rows of queryAuditTrail and the
 * archived rows matching the same filters, newest first. Archived rows get
 * their personal data from audit_personal, where it stays until anonymized
 * (the archive files never hold it), so they read exactly like hot rows.
 */
import type { ClientBase } from 'pg';
import { join } from 'node:path';
import { listArchiveFiles, readRecords } from './archiveRead';
import type { ArchiveRecord } from './archiveWrite';
import { checkName, DEFAULT_SCHEMA, quoteIdent } from './identifiers';
import { queryAuditTrail } from './query';
import type { AuditQuery, AuditTrailRow } from './query';
import type { DataSubjectEvent } from './dataSubject';

/** The query over database and archive together. */
export async function queryWithArchive(client: ClientBase, query: AuditQuery & { archiveDir: string }): Promise<AuditTrailRow[]> {
  const schema = checkName('schema', query.schema ?? DEFAULT_SCHEMA);
  const limit = query.limit ?? 100;
  const hot = await queryAuditTrail(client, query);
  const { found, personal } = await readArchived(client, { schema, archiveDir: query.archiveDir, matches: (r) => matches(r, query), limit, since: query.since, until: query.until });
  const archived = found.map((r) => toTrailRow(r, personal.get(r.event_id)));
  return [...hot, ...archived].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime()
    || (a.streamId < b.streamId ? -1 : a.streamId > b.streamId ? 1 : b.seq - a.seq)).slice(0, limit);
}

/** Every archived event where `userId` is the actor or the subject (the conditions of dataSubject.ts), with its personal data. */
export async function archivedDataSubjectEvents(client: ClientBase, options: { schema?: string; archiveDir: string; userId: string }): Promise<DataSubjectEvent[]> {
  const schema = checkName('schema', options.schema ?? DEFAULT_SCHEMA);
  const id = options.userId;
  const { found, personal } = await readArchived(client, {
    schema, archiveDir: options.archiveDir,
    matches: (r) => r.user_id === id || (r.resource_type === 'user' && r.resource_id === id) || (r.details as any)?.target_user_id === id,
  });
  return found.reverse().map((r) => {
    const p = personal.get(r.event_id);
    return { ...toTrailRow(r, p), role: r.user_id === id ? 'actor' : 'subject', personalFields: p?.fields ?? {}, erasedAt: p?.erased_at ?? null };
  });
}

interface ReadOptions { schema: string; archiveDir: string; matches: (r: ArchiveRecord) => boolean; limit?: number; since?: Date; until?: Date }

/** The archived rows that match, newest first (at most `limit`), and the personal data of each. */
async function readArchived(client: ClientBase, o: ReadOptions): Promise<{ found: ArchiveRecord[]; personal: Map<string, Record<string, any>> }> {
  let found: ArchiveRecord[] = [];
  const limit = o.limit ?? Infinity;
  for (const f of await listArchiveFiles(client, o.schema)) {
    const [y, m] = f.month.split('-').map(Number) as [number, number];
    if (o.until && Date.UTC(y, m - 1, 1) >= o.until.getTime()) continue;
    if (o.since && Date.UTC(y, m, 1) <= o.since.getTime()) continue;
    try {
      for await (const record of readRecords(join(o.archiveDir, f.file))) {
        if (!o.matches(record)) continue;
        found.push(record);
        if (found.length >= 2 * limit) found = newestFirst(found).slice(0, limit);
      }
    } catch (err) {
      throw new Error(`cannot read archive file ${join(o.archiveDir, f.file)}: ${(err as Error).message}`, { cause: err });
    }
  }
  found = newestFirst(found).slice(0, limit);
  const personal = new Map<string, Record<string, any>>();
  if (found.length > 0) {
    const { rows } = await client.query(`SELECT event_id::text, client_address, user_agent, fields, erased_at FROM ${quoteIdent(o.schema)}.audit_personal
      WHERE event_id = ANY($1::uuid[])`, [found.map((r) => r.event_id)]);
    for (const r of rows) personal.set(r.event_id, r);
  }
  return { found, personal };
}

function newestFirst(records: ArchiveRecord[]): ArchiveRecord[] {
  return records.sort((a, b) => (a.created_at !== b.created_at ? (a.created_at < b.created_at ? 1 : -1)
    : a.stream_id !== b.stream_id ? (a.stream_id < b.stream_id ? -1 : 1) : b.seq - a.seq));
}

/** The filters of buildQuery (query.ts), on an archived row. */
function matches(r: Record<string, any>, q: AuditQuery): boolean {
  if (q.action !== undefined && !(Array.isArray(q.action) ? q.action : [q.action]).includes(r.action)) return false;
  if (q.user !== undefined && r.user_id !== q.user) return false;
  if (q.resource !== undefined) {
    const at = q.resource.indexOf(':');
    const [type, id] = at === -1 ? [q.resource, undefined] : [q.resource.slice(0, at), q.resource.slice(at + 1)];
    if (r.resource_type !== type || (id !== undefined && r.resource_id !== id)) return false;
  }
  if (q.since !== undefined && r.created_at < q.since.toISOString()) return false;
  if (q.until !== undefined && r.created_at >= q.until.toISOString()) return false;
  return q.outcome === undefined || r.outcome === q.outcome;
}

/** An archived row as the audit_trail view would show it (personal data merged unless erased). */
function toTrailRow(r: Record<string, any>, p: Record<string, any> | undefined): AuditTrailRow {
  const live = p !== undefined && p.erased_at === null;
  const fields = live ? (p.fields as Record<string, unknown>) : {};
  return {
    eventId: r.event_id, createdAt: new Date(r.created_at), recordedAt: new Date(r.recorded_at), action: r.action, category: r.category,
    severity: r.severity, outcome: r.outcome, reason: r.reason, userId: r.user_id, userRole: r.user_role, sessionId: r.session_id,
    resourceType: r.resource_type, resourceId: r.resource_id, details: { ...r.details, ...fields },
    oldValue: r.old_value ?? null, newValue: r.new_value ?? null, affectedRecords: r.affected_records, traceId: r.trace_id, spanId: r.span_id,
    serviceName: r.service_name, schemaValid: r.schema_valid, streamId: r.stream_id, seq: r.seq,
    clientAddress: live ? p.client_address : null, userAgent: live ? p.user_agent : null,
    username: typeof fields.username === 'string' ? fields.username : null,
  };
}
