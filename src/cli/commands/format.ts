/** Output formats of `audit query`: an aligned table for people, JSON and CSV for exports. */
import { AUDIT_TRAIL_COLUMNS } from '../../store/query';
import type { AuditTrailRow } from '../../store/query';
import { alignColumns } from '../alignColumns';

/** A row keyed by the view's column names, timestamps as ISO 8601. */
export function plainRow(row: AuditTrailRow): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [column, field] of AUDIT_TRAIL_COLUMNS) {
    const v = row[field];
    out[column] = v instanceof Date ? v.toISOString() : v;
  }
  return out;
}

/** A JSON array, one row per line. */
export function formatJson(rows: readonly AuditTrailRow[]): string {
  if (rows.length === 0) return '[]\n';
  return `[\n${rows.map((r) => JSON.stringify(plainRow(r))).join(',\n')}\n]\n`;
}

/** RFC 4180 CSV with a header; JSON columns as JSON text; cells that a spreadsheet would run as a formula are prefixed with `'`. */
export function formatCsv(rows: readonly AuditTrailRow[]): string {
  return csvTable(AUDIT_TRAIL_COLUMNS.map(([c]) => c), rows.map(plainRow));
}

/** CSV (as formatCsv) of `records` with the given columns, in that order. */
export function csvTable(columns: readonly string[], records: ReadonlyArray<Record<string, unknown>>): string {
  const cell = (v: unknown): string => {
    if (v === null || v === undefined) return '';
    let s = typeof v === 'object' ? JSON.stringify(v) : String(v);
    if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return `${[columns.join(','), ...records.map((r) => columns.map((c) => cell(r[c])).join(','))].join('\r\n')}\r\n`;
}

/** Detail keys shown first, in this order: who was targeted and the numbers the alerts read. */
const LEADING_KEYS = [
  'username', 'email', 'target_user_id', 'old_role', 'new_role', 'operation', 'target_type', 'affected_records',
  'dataset', 'format', 'record_count', 'rule', 'alert_severity', 'field', 'old_price', 'new_price',
];

function plainValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s="]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

/**
 * Details as `key=value` pairs, the telling ones first, so a cut-off cell still
 * shows them: for LOGIN_FAILED `username=… attempt=3/5 address_attempts=3`.
 * JSON and CSV keep the details complete.
 */
export function formatDetails(row: Pick<AuditTrailRow, 'details' | 'reason'>): string {
  const d: Record<string, unknown> = { ...(row.details ?? {}) };
  const parts: string[] = [];
  const take = (key: string, label = key): void => {
    if (d[key] === undefined) return;
    parts.push(`${label}=${plainValue(d[key])}`);
    delete d[key];
  };
  take('username');
  if (d.attempt_count !== undefined) {
    parts.push(`attempt=${plainValue(d.attempt_count)}${d.max_attempts !== undefined ? `/${plainValue(d.max_attempts)}` : ''}`);
    delete d.attempt_count;
    delete d.max_attempts;
  }
  take('address_attempt_count', 'address_attempts');
  if (d.limit_reached !== undefined) {
    if (d.limit_reached === true) parts.push('LIMIT_REACHED');
    delete d.limit_reached;
  }
  for (const key of LEADING_KEYS) take(key);
  for (const key of Object.keys(d)) take(key);
  if (row.reason) parts.push(`reason=${plainValue(row.reason)}`);
  return parts.join(' ') || '-';
}

const TABLE_COLUMNS: ReadonlyArray<[string, (r: AuditTrailRow) => string, number]> = [
  ['created_at', (r) => r.createdAt.toISOString(), 24],
  ['action', (r) => r.action, 24],
  ['outcome', (r) => r.outcome, 7],
  ['user', (r) => r.userId ?? '-', 20],
  ['resource', (r) => (r.resourceType ? `${r.resourceType}${r.resourceId ? `:${r.resourceId}` : ''}` : '-'), 24],
  ['client', (r) => r.clientAddress ?? '-', 39],
  ['details', formatDetails, 90],
];

/** An aligned table of the main columns; details as `key=value`; long cells are cut with `…` (json/csv are complete). */
export function formatTable(rows: readonly AuditTrailRow[]): string {
  if (rows.length === 0) return 'no matching audit events\n';
  const cells = rows.map((r) => TABLE_COLUMNS.map(([, get, max]) => {
    const s = get(r).replace(/[\r\n\t]/g, ' ');
    return s.length > max ? `${s.slice(0, max - 1)}…` : s;
  }));
  return `${alignColumns([TABLE_COLUMNS.map(([name]) => name), ...cells]).join('\n')}\n${rows.length} event(s)\n`;
}
