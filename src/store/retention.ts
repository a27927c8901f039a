/**
 * Retention and erasure, the only ways rows leave the trail. Retention drops
 * whole monthly partitions (no row trigger fires for DROP) after recording,
 * per stream, the runs of chain links it removes, so verify still passes.
 * Erasure blanks personal data in audit_personal; the chain holds only its HMAC.
 */
import type { ClientBase } from 'pg';
import { toStoreError } from './errors';
import { dataSubjectCondition } from './dataSubject';
import { checkName, DEFAULT_SCHEMA, quoteIdent } from './identifiers';

/** Options of `dropPartitionsBefore()`. */
export interface RetentionOptions {
  /** Schema of the audit tables (default `cvd_activity`). */
  schema?: string;
  /** Monthly partitions that end at or before this instant are dropped. */
  before: Date;
  /** The policy: months always kept (default 24, at least 1); a `before` later than now minus this is refused. */
  keepMonths?: number;
  /** The current time (tests). */
  now?: Date;
}

/** What a retention run removed. */
export interface RetentionResult {
  /** Partition names dropped, oldest first. */
  dropped: string[];
  /** Events removed with them. */
  events: number;
}

/** Drops the monthly partitions entirely before `before`, recording their chain links in audit_retention first. */
export async function dropPartitionsBefore(client: ClientBase, options: RetentionOptions): Promise<RetentionResult> {
  const schema = checkName('schema', options.schema ?? DEFAULT_SCHEMA);
  if (!(options.before instanceof Date) || Number.isNaN(options.before.getTime())) {
    throw new TypeError(`before must be a valid Date, got ${String(options.before)}`);
  }
  checkCutoff(options);
  const s = quoteIdent(schema);
  try {
    await client.query('BEGIN');
    try {
      // Same lock as partition creation: no partition appears or fills while we decide.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${schema}.audit_log partitions`]);
      const { rows } = await client.query<{ name: string }>(
        `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = to_regclass($1) AND c.relname ~ '^audit_log_p[0-9]{6}$' ORDER BY c.relname`, [`${s}.audit_log`]);
      const cutoff = options.before.getTime();
      const drop = rows.map((r) => r.name).filter((name) => monthEnd(name) <= cutoff);
      const events = await recordAndDropPartitions(client, s, drop);
      await client.query('COMMIT');
      return { dropped: drop, events };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
  } catch (err) {
    throw toStoreError(err, `dropping audit partitions of schema ${schema}`);
  }
}

/**
 * Refuses a cutoff later than the policy allows: a mistyped or future date
 * would otherwise drop the current month, and verify would then find nothing
 * left to check.
 */
function checkCutoff(options: RetentionOptions): void {
  const keep = options.keepMonths ?? 24;
  if (!Number.isInteger(keep) || keep < 1) throw new TypeError(`keepMonths must be an integer of at least 1, got ${String(keep)}`);
  const latest = new Date(options.now ?? Date.now());
  latest.setUTCMonth(latest.getUTCMonth() - keep);
  if (options.before.getTime() > latest.getTime()) {
    throw new RangeError(`before ${options.before.toISOString()} is later than the retention policy allows: `
      + `with keepMonths ${keep} the latest cutoff is ${latest.toISOString()}`);
  }
}

/**
 * Inside the caller's transaction (holding the partitions lock): records, per
 * stream, each run of consecutive seqs the partitions hold in audit_retention,
 * deletes their events' personal data (unless `keepPersonal`: archived), drops
 * them; returns the events removed. `label` names them in audit_retention
 * (default the partitions; an archive file for archived ones).
 */
export async function recordAndDropPartitions(
  client: ClientBase, s: string, names: readonly string[], options: { label?: string; keepPersonal?: boolean } = {},
): Promise<number> {
  if (names.length === 0) return 0;
  const union = names.map((name) => `SELECT stream_id, seq, prev_hash, hash FROM ${s}.${quoteIdent(name)}`).join(' UNION ALL ');
  // Gaps-and-islands: consecutive seqs of one stream form one run.
  const recorded = await client.query(`INSERT INTO ${s}.audit_retention
      (stream_id, from_seq, to_seq, from_prev_hash, to_hash, events, partition_name)
    SELECT stream_id, min(seq), max(seq), (array_agg(prev_hash ORDER BY seq))[1], (array_agg(hash ORDER BY seq DESC))[1],
           count(*), $1
    FROM (SELECT stream_id, seq, prev_hash, hash, seq - row_number() OVER (PARTITION BY stream_id ORDER BY seq) AS run
          FROM (${union}) d) x
    GROUP BY stream_id, run
    RETURNING events::text AS events`, [options.label ?? names.join(',')]);
  for (const name of names) {
    // Archived events keep their personal data here until it is anonymized (archive.ts).
    if (!options.keepPersonal) await client.query(`DELETE FROM ${s}.audit_personal p USING ${s}.${quoteIdent(name)} l WHERE p.event_id = l.event_id`);
    await client.query(`DROP TABLE ${s}.${quoteIdent(name)}`);
  }
  return recorded.rows.reduce((n, r) => n + Number(r.events), 0);
}

/** Epoch ms where the month of partition `audit_log_pYYYYMM[_class]` ends. */
export function monthEnd(name: string): number {
  const [, y, m] = /_p(\d{4})(\d{2})/.exec(name) ?? [];
  return Date.UTC(Number(y), Number(m), 1);
}

/** Whose personal data to erase: one user's events, a data subject's events, given events, or everything recorded before a time. */
export interface ErasureOptions {
  /** Schema of the audit tables (default `cvd_activity`). */
  schema?: string;
  /** Erase the personal data of every event this user performed. */
  userId?: string;
  /**
   * Erase the personal data of every event this user performed or was the
   * subject of (a GDPR erasure; see dataSubject.ts). The personal data of an
   * event is one HMAC'd unit, so the actor's address goes with the subject's name.
   */
  dataSubject?: string;
  /** Erase the personal data of these events. */
  eventIds?: string[];
  /** Erase the personal data of every event before this instant (the review's "anonymize after 1 year"). */
  before?: Date;
}

/** Blanks the personal data selected (client address, user agent, personal fields) and marks it erased; returns how many events. */
export async function erasePersonalData(client: ClientBase, options: ErasureOptions): Promise<number> {
  const schema = checkName('schema', options.schema ?? DEFAULT_SCHEMA);
  const s = quoteIdent(schema);
  const where: string[] = []; // event ids to erase, one SELECT per condition
  const params: unknown[] = [];
  if (options.userId !== undefined) {
    params.push(options.userId);
    where.push(`SELECT event_id FROM ${s}.audit_log WHERE user_id = $${params.length}`,
      `SELECT event_id FROM ${s}.audit_personal WHERE archived_subjects[1] = $${params.length}`);
  }
  if (options.dataSubject !== undefined) {
    params.push(options.dataSubject);
    where.push(`SELECT l.event_id FROM ${s}.audit_log l WHERE ${dataSubjectCondition('l', `$${params.length}`)}`,
      `SELECT event_id FROM ${s}.audit_personal WHERE $${params.length} = ANY(archived_subjects)`);
  }
  if (options.eventIds !== undefined) {
    params.push(options.eventIds);
    where.push(`SELECT unnest($${params.length}::uuid[])`);
  }
  if (options.before !== undefined) {
    params.push(options.before.toISOString());
    where.push(`SELECT event_id FROM ${s}.audit_log WHERE created_at < $${params.length}`,
      `SELECT event_id FROM ${s}.audit_personal WHERE archived_created_at < $${params.length}`);
  }
  // Archived events (archiveWrite.ts) are no longer in audit_log: their personal rows carry their time and subjects.
  // One IN over a UNION ALL, not ORs of INs: the planner makes it one semi-join, whatever the number of events.
  if (where.length === 0) throw new TypeError('erasePersonalData needs userId, dataSubject, eventIds or before');
  try {
    const result = await client.query(`UPDATE ${s}.audit_personal p
        SET client_address = NULL, user_agent = NULL, fields = '{}', client_pseudonym = NULL, username_pseudonym = NULL, erased_at = now()
      WHERE p.erased_at IS NULL AND p.event_id IN (${where.join(' UNION ALL ')})`, params);
    return result.rowCount ?? 0;
  } catch (err) {
    throw toStoreError(err, `erasing personal data in schema ${schema}`);
  }
}
