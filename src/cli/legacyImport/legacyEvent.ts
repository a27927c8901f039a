/**
 * One legacy row as an audit event. Rows of the old `audit_log` (user_id,
 * action, resource_type, resource_id, details, ip_address, created_at, and
 * the review's old_value / new_value / affected_records) keep their action;
 * rows of `user_activity_log` (action_type, timestamp, …) become LOGIN /
 * LOGOUT / FILE_DOWNLOAD or `ACTIVITY_<TYPE>`. Built by the audit catalog's
 * buildEvent like any recorded event (redaction, personal fields split off),
 * checked leniently: what the catalog would refuse is kept and marked
 * schema-invalid, free-text details are kept as `details.text`. Every event
 * carries `details._import` (source, line, when) and keeps its original time.
 */
import { createHash } from 'node:crypto';
import type { ActionRegistry } from '../../audit/ActionRegistry';
import { buildEvent } from '../../audit/buildEvent';
import type { BuildSettings } from '../../audit/buildEvent';
import { formatFieldError } from '../../audit/errors';
import type { AuditEvent } from '../../audit/types';

/** What every row of one import shares. */
export interface ImportContext {
  /** Where the rows come from (default: the file name); part of every event id. */
  source: string;
  /** When this import runs (ISO 8601). */
  importedAt: string;
  registry: ActionRegistry;
  settings: BuildSettings;
}

/** Columns read into the event itself; any other column lands in the details. */
const MAPPED = new Set(['user_id', 'action', 'action_type', 'resource_type', 'resource_id', 'details', 'ip_address', 'user_agent',
  'created_at', 'timestamp', 'old_value', 'new_value', 'affected_records', 'session_id', 'user_role', 'is_success']);

/** Activity types of user_activity_log that are catalog actions. */
const ACTIVITY_ACTIONS: Record<string, string> = { login: 'LOGIN', logout: 'LOGOUT', file_download: 'FILE_DOWNLOAD' };

/**
 * Event id of a row: a UUID derived from the source, the row's raw text and
 * how many identical rows came before it in the file, so a re-run (even of a
 * re-exported, reordered file) maps each row to the same id and the store skips it.
 */
export function legacyEventId(source: string, raw: string, occurrence: number): string {
  const h = createHash('sha256').update(`cvd-legacy-import\n${source}\n${occurrence}\n${raw}`).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The event of one row, or why the row cannot be one (missing action or time). */
export function legacyEvent(row: Record<string, unknown>, line: number, eventId: string, ctx: ImportContext): AuditEvent | { error: string } {
  const activity = row.action === undefined && row.action_type !== undefined;
  const action = activity ? activityAction(row.action_type) : text(row.action);
  if (!action) return { error: activity ? 'action_type is empty' : 'no action (audit_log) or action_type (user_activity_log) column' };
  const timeColumn = row.created_at !== undefined || (!activity && row.timestamp === undefined) ? 'created_at' : 'timestamp';
  const at = legacyTime(row[timeColumn]);
  if (at === null) return { error: `${timeColumn}: ${JSON.stringify(row[timeColumn] ?? null)} is not a date and time` };

  const extra = Object.fromEntries(Object.entries(row).filter(([k]) => !MAPPED.has(k)));
  const details = activity ? { ...extra, ...(row.action_type !== undefined ? { action_type: row.action_type } : {}) } : detailsOf(row.details);
  const userId = text(row.user_id);
  const registered = ctx.registry.get(action);
  const { event, errors } = buildEvent({ name: action, action: registered, fields: {
    details,
    outcome: row.is_success === false || row.is_success === 'false' || row.is_success === 'f' ? 'failure' : 'success',
    resourceType: text(row.resource_type) ?? undefined,
    resourceId: text(row.resource_id) ?? undefined,
    oldValue: jsonOrText(row.old_value),
    newValue: jsonOrText(row.new_value),
    affectedRecords: integer(row.affected_records),
  }, capture: {
    eventId,
    occurredAt: at,
    user: userId ? { id: userId, roles: text(row.user_role) ? [text(row.user_role)!] : [], sessionId: text(row.session_id) ?? undefined } : null,
    clientAddress: text(row.ip_address),
    userAgent: text(row.user_agent),
    traceId: null,
    spanId: null,
  } }, ctx.settings);
  if (errors.length > 0) event.schemaErrors = errors.map(formatFieldError);
  if (activity && !registered) event.category = 'activity';
  const mark: Record<string, unknown> = { source: ctx.source, line, imported_at: ctx.importedAt };
  if (!activity && Object.keys(extra).length > 0) mark.columns = extra;
  event.details = { ...event.details, _import: mark };
  return event;
}

function activityAction(type: unknown): string | null {
  const t = text(type)?.toLowerCase();
  if (!t) return null;
  return ACTIVITY_ACTIONS[t] ?? `ACTIVITY_${t.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;
}

/** A time as the old tables wrote it: ISO 8601, `YYYY-MM-DD HH:MM:SS[.fff]` (UTC when it names no zone), or epoch seconds / ms. */
export function legacyTime(value: unknown): number | null {
  if (typeof value === 'number' || (typeof value === 'string' && /^\d{9,13}(\.\d+)?$/.test(value.trim()))) {
    const n = Number(value);
    const ms = n > 1e11 ? n : n * 1000;
    return Number.isFinite(ms) ? Math.round(ms) : null;
  }
  if (typeof value !== 'string') return null;
  let v = value.trim().replace(' ', 'T');
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?/.test(v)) return null;
  if (/T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(v)) v += 'Z';
  else if (/[+-]\d{2}$/.test(v)) v += ':00'; // Postgres prints +02 for +02:00
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? null : ms;
}

/** details as stored: a JSON object as it is, other JSON under `value`, free text under `text`. */
function detailsOf(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null || value === '') return {};
  if (typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  const parsed = jsonOrText(value);
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  return typeof parsed === 'string' ? { text: parsed } : { value: parsed };
}

function jsonOrText(value: unknown): unknown {
  if (typeof value !== 'string') return value ?? null;
  const t = value.trim();
  if (/^[[{"]/.test(t)) {
    try {
      return JSON.parse(t);
    } catch {
      /* free text that only looks like JSON */
    }
  }
  return value;
}

function text(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  const s = String(value).trim();
  return s === '' ? null : s;
}

function integer(value: unknown): number | null {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return Number.isSafeInteger(n) ? (n as number) : null;
}
