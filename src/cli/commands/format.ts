/** Output formats of `audit query`: an aligned table for people, JSON and CSV for exports. */
import { AUDIT_TRAIL_COLUMNS } from '../../store/query';
import type { AuditTrailRow } from '../../store/query';

/** A row keyed by the view's column names, timestamps as ISO 8601. */
function plain(row: AuditTrailRow): Record<string, unknown> {
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
  return `[\n${rows.map((r) => JSON.stringify(plain(r))).join(',\n')}\n]\n`;
}

/** RFC 4180 CSV with a header; JSON columns as JSON text; cells that a spreadsheet would run as a formula are prefixed with `'`. */
export function formatCsv(rows: readonly AuditTrailRow[]): string {
  const cell = (v: unknown): string => {
    if (v === null || v === undefined) return '';
    let s = typeof v === 'object' ? JSON.stringify(v) : String(v);
    if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const header = AUDIT_TRAIL_COLUMNS.map(([c]) => c).join(',');
  return `${[header, ...rows.map((r) => Object.values(plain(r)).map(cell).join(','))].join('\r\n')}\r\n`;
}

const TABLE_COLUMNS: ReadonlyArray<[string, (r: AuditTrailRow) => string, number]> = [
  ['created_at', (r) => r.createdAt.toISOString(), 24],
  ['action', (r) => r.action, 24],
  ['outcome', (r) => r.outcome, 7],
  ['user', (r) => r.userId ?? '-', 20],
  ['resource', (r) => (r.resourceType ? `${r.resourceType}${r.resourceId ? `:${r.resourceId}` : ''}` : '-'), 24],
  ['client', (r) => r.clientAddress ?? '-', 39],
  ['details', (r) => JSON.stringify(r.details), 60],
];

/** An aligned table of the main columns; long cells are cut with `…`. */
export function formatTable(rows: readonly AuditTrailRow[]): string {
  if (rows.length === 0) return 'no matching audit events\n';
  const cells = rows.map((r) => TABLE_COLUMNS.map(([, get, max]) => {
    const s = get(r).replace(/[\r\n\t]/g, ' ');
    return s.length > max ? `${s.slice(0, max - 1)}…` : s;
  }));
  const widths = TABLE_COLUMNS.map(([name], i) => Math.max(name.length, ...cells.map((c) => c[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!))).join('  ');
  return `${[line(TABLE_COLUMNS.map(([name]) => name)), ...cells.map(line)].join('\n')}\n${rows.length} event(s)\n`;
}
