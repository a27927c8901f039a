/**
 * One person's events in the trail, for data-subject requests (GDPR export
 * and erasure): every event the user performed (the actor) or that was about
 * them (the subject: a `user` resource with their id, or a `target_user_id`
 * detail). Export reads the personal data beside each event from
 * audit_personal; erasure goes through `erasePersonalData({ dataSubject })`.
 */
import type { ClientBase } from 'pg';
import { toStoreError } from './errors';
import { checkName, DEFAULT_SCHEMA, quoteIdent } from './identifiers';
import { toAuditTrailRow } from './query';
import type { AuditTrailRow } from './query';

/**
 * SQL condition on audit_log alias `l` for "the user `param` is the actor or
 * the subject". The one definition export, erasure and their tests share.
 */
export function dataSubjectCondition(l: string, param: string): string {
  return `(${l}.user_id = ${param} OR (${l}.resource_type = 'user' AND ${l}.resource_id = ${param})`
    + ` OR ${l}.details ->> 'target_user_id' = ${param})`;
}

/** Options of `exportDataSubject()`. */
export interface DataSubjectExportOptions {
  /** Schema of the audit tables (default `cvd_activity`). */
  schema?: string;
  /** The user whose events are exported. */
  userId: string;
}

/** One event of the export: the trail row and the personal data stored beside it. */
export interface DataSubjectEvent extends AuditTrailRow {
  /** `actor` when the user performed it, else `subject`. */
  role: 'actor' | 'subject';
  /** Personal detail fields (user names, e-mail addresses) as stored; empty once erased. */
  personalFields: Record<string, string>;
  /** When the event's personal data was erased, or null. */
  erasedAt: Date | null;
}

/** Every event where `userId` is the actor or the subject, oldest first, with its personal data; one consistent snapshot. */
export async function exportDataSubject(client: ClientBase, options: DataSubjectExportOptions): Promise<DataSubjectEvent[]> {
  const schema = checkName('schema', options.schema ?? DEFAULT_SCHEMA);
  if (typeof options.userId !== 'string' || options.userId === '') throw new TypeError('userId must be a non-empty string');
  const s = quoteIdent(schema);
  try {
    const { rows } = await client.query(
      `SELECT t.*, (t.user_id IS NOT DISTINCT FROM $1) AS is_actor,
              coalesce(p.fields, '{}'::jsonb) AS personal_fields, p.erased_at AS personal_erased_at
         FROM ${s}.audit_trail t
         LEFT JOIN ${s}.audit_personal p ON p.event_id = t.event_id
        WHERE t.event_id IN (SELECT l.event_id FROM ${s}.audit_log l WHERE ${dataSubjectCondition('l', '$1')})
        ORDER BY t.created_at, t.stream_id, t.seq`, [options.userId]);
    return rows.map((r) => ({
      ...toAuditTrailRow(r),
      role: r.is_actor ? 'actor' : 'subject',
      personalFields: r.personal_fields as Record<string, string>,
      erasedAt: r.personal_erased_at as Date | null,
    }));
  } catch (err) {
    throw toStoreError(err, `exporting the events of one user from schema ${schema}`);
  }
}

/**
 * One user's browser events (browser_events: page views, clicks, forms the
 * browser module reported under that user), oldest first, for the export.
 */
export async function browserEventsOf(client: ClientBase, options: DataSubjectExportOptions): Promise<Record<string, unknown>[]> {
  const s = quoteIdent(checkName('schema', options.schema ?? DEFAULT_SCHEMA));
  try {
    const { rows } = await client.query(`SELECT * FROM ${s}.browser_events WHERE user_id = $1 ORDER BY received_at, occurred_at`, [options.userId]);
    return rows;
  } catch (err) {
    throw toStoreError(err, `reading the browser events of user ${options.userId}`);
  }
}

/**
 * Deletes one user's browser events. They are not chained nor append-only
 * (they age out after 90 days), so erasure removes them whole: the address,
 * user agent details and pages go with them. Returns how many went.
 */
export async function deleteBrowserEventsOf(client: ClientBase, options: DataSubjectExportOptions): Promise<number> {
  const s = quoteIdent(checkName('schema', options.schema ?? DEFAULT_SCHEMA));
  try {
    const result = await client.query(`DELETE FROM ${s}.browser_events WHERE user_id = $1`, [options.userId]);
    return result.rowCount ?? 0;
  } catch (err) {
    throw toStoreError(err, `deleting the browser events of user ${options.userId}`);
  }
}
