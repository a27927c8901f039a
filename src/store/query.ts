/** Reading the trail: filtered, parameterized queries over the `audit_trail` view. */
import type { ClientBase } from 'pg';
import { toStoreError } from './errors';
import { checkName, DEFAULT_SCHEMA, quoteIdent } from './identifiers';

/** Filters of `queryAuditTrail()`; all optional, combined with AND. */
export interface AuditQuery {
  /** Schema of the audit tables (default `cvd_activity`). */
  schema?: string;
  /** Action name(s), exact. */
  action?: string | string[];
  /** Actor user id, exact. */
  user?: string;
  /** `type` or `type:id`. */
  resource?: string;
  /** Events at or after this time. */
  since?: Date;
  /** Events before this time. */
  until?: Date;
  /** `success` or `failure`. */
  outcome?: string;
  /** Most rows returned, newest first (default 100, at most 100000). */
  limit?: number;
}

/** One row of the audit_trail view. */
export interface AuditTrailRow {
  eventId: string;
  createdAt: Date;
  recordedAt: Date;
  action: string;
  category: string;
  severity: string;
  outcome: string;
  reason: string | null;
  userId: string | null;
  userRole: string | null;
  sessionId: string | null;
  resourceType: string | null;
  resourceId: string | null;
  details: Record<string, unknown>;
  oldValue: unknown;
  newValue: unknown;
  affectedRecords: number | null;
  traceId: string | null;
  spanId: string | null;
  serviceName: string;
  schemaValid: boolean;
  streamId: string;
  seq: number;
  clientAddress: string | null;
  userAgent: string | null;
  username: string | null;
}

/** Columns of the view, in contract order, with their camelCase names. */
export const AUDIT_TRAIL_COLUMNS: ReadonlyArray<readonly [column: string, field: keyof AuditTrailRow]> = [
  ['event_id', 'eventId'], ['created_at', 'createdAt'], ['recorded_at', 'recordedAt'], ['action', 'action'],
  ['category', 'category'], ['severity', 'severity'], ['outcome', 'outcome'], ['reason', 'reason'],
  ['user_id', 'userId'], ['user_role', 'userRole'], ['session_id', 'sessionId'], ['resource_type', 'resourceType'],
  ['resource_id', 'resourceId'], ['details', 'details'], ['old_value', 'oldValue'], ['new_value', 'newValue'],
  ['affected_records', 'affectedRecords'], ['trace_id', 'traceId'], ['span_id', 'spanId'], ['service_name', 'serviceName'],
  ['schema_valid', 'schemaValid'], ['stream_id', 'streamId'], ['seq', 'seq'], ['client_address', 'clientAddress'],
  ['user_agent', 'userAgent'], ['username', 'username'],
];

const MAX_LIMIT = 100_000;

/** Runs the filtered query, newest first. */
export async function queryAuditTrail(client: ClientBase, query: AuditQuery = {}): Promise<AuditTrailRow[]> {
  const schema = checkName('schema', query.schema ?? DEFAULT_SCHEMA);
  const { sql, params } = buildQuery(quoteIdent(schema), query);
  try {
    const { rows } = await client.query(sql, params);
    return rows.map(toAuditTrailRow);
  } catch (err) {
    throw toStoreError(err, `querying the audit trail in schema ${schema}`);
  }
}

/** The SQL and parameters of a query (exported for tests and EXPLAIN). */
export function buildQuery(s: string, q: AuditQuery): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (clause: (n: string) => string, value: unknown) => {
    params.push(value);
    where.push(clause(`$${params.length}`));
  };
  if (q.action !== undefined) {
    const actions = Array.isArray(q.action) ? q.action : [q.action];
    add((p) => `action = ANY(${p}::text[])`, actions);
  }
  if (q.user !== undefined) add((p) => `user_id = ${p}`, q.user);
  if (q.resource !== undefined) {
    const at = q.resource.indexOf(':');
    if (at === -1) add((p) => `resource_type = ${p}`, q.resource);
    else {
      add((p) => `resource_type = ${p}`, q.resource.slice(0, at));
      add((p) => `resource_id = ${p}`, q.resource.slice(at + 1));
    }
  }
  if (q.since !== undefined) add((p) => `created_at >= ${p}`, checkDate('since', q.since).toISOString());
  if (q.until !== undefined) add((p) => `created_at < ${p}`, checkDate('until', q.until).toISOString());
  if (q.outcome !== undefined) add((p) => `outcome = ${p}`, q.outcome);
  const limit = q.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new TypeError(`limit must be an integer from 1 to ${MAX_LIMIT}, got ${String(limit)}`);
  }
  params.push(limit);
  const sql = `SELECT * FROM ${s}.audit_trail${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
    ORDER BY created_at DESC, stream_id, seq DESC LIMIT $${params.length}`;
  return { sql, params };
}

function checkDate(name: string, d: Date): Date {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new TypeError(`${name} must be a valid date, got ${String(d)}`);
  return d;
}

/** A row of the audit_trail view as the database returns it, in camelCase. */
export function toAuditTrailRow(r: Record<string, any>): AuditTrailRow {
  const row: Record<string, unknown> = {};
  for (const [column, field] of AUDIT_TRAIL_COLUMNS) row[field] = r[column];
  row.seq = Number(r.seq);
  row.affectedRecords = r.affected_records === null ? null : Number(r.affected_records);
  return row as unknown as AuditTrailRow;
}
