/**
 * The quarantine (table audit_quarantine, migration 005): where an event goes
 * that the database refuses for its content, so that one bad event does not
 * stop its whole stream. The pipeline finds the event by splitting the refused
 * batch; see docs/durability.md, "One event Postgres refuses".
 */
import type { Pool } from 'pg';
import type { StoreError } from './errors';
import type { AuditRecord } from './types';

/** Why an event was quarantined. */
export interface QuarantineReason {
  /** The refusal, as the writer reported it. */
  error: StoreError;
  /** Stream the event would have been chained onto. */
  streamId: string;
}

/** One quarantined event, as `audit verify` and `spool status` list it. */
export interface QuarantinedEvent {
  eventId: string;
  streamId: string;
  action: string | null;
  quarantinedAt: string;
  sqlState: string | null;
  error: string;
}

// Text columns refuse NUL; the event itself is kept byte for byte in `event`.
const withoutNul = (value: string): string => value.replace(/\0/g, '\uFFFD');

/** Stores `record` in the quarantine of `schema` (a quoted identifier); a replay of the same event is a no-op. */
export async function quarantineRecord(pool: Pool, schema: string, record: AuditRecord, reason: QuarantineReason): Promise<void> {
  await pool.query(
    `INSERT INTO ${schema}.audit_quarantine (event_id, stream_id, action, sql_state, error, event)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING`,
    [
      withoutNul(String(record.eventId)), withoutNul(reason.streamId), withoutNul(String(record.action)),
      reason.error.sqlState ?? null, withoutNul(reason.error.message), Buffer.from(JSON.stringify(record), 'utf8'),
    ],
  );
}

/** What the quarantine holds: how many events in all, the newest ones first. */
export interface QuarantineSummary {
  total: number;
  events: QuarantinedEvent[];
}

/** The newest `limit` quarantined events of `schema` (a quoted identifier); null when the schema predates migration 005. */
export async function readQuarantine(pool: Pick<Pool, 'query'>, schema: string, limit = 20): Promise<QuarantineSummary | null> {
  const exists = await pool.query<{ table: string | null }>('SELECT to_regclass($1)::text AS table', [`${schema}.audit_quarantine`]);
  if (exists.rows[0]?.table == null) return null;
  const { rows } = await pool.query<{ total: number; event_id: string; stream_id: string; action: string | null; at: string; sql_state: string | null; error: string }>(
    `SELECT count(*) OVER ()::int AS total, event_id, stream_id, action, to_char(quarantined_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at,
       sql_state, error FROM ${schema}.audit_quarantine ORDER BY quarantined_at DESC LIMIT $1`,
    [limit],
  );
  return {
    total: rows[0]?.total ?? 0,
    events: rows.map((r) => ({ eventId: r.event_id, streamId: r.stream_id, action: r.action, quarantinedAt: r.at, sqlState: r.sql_state, error: r.error })),
  };
}
