/**
 * Retention by class (docs/data-lifecycle.md): security events (category
 * `security`) and other audit events expire on their own schedules, and
 * personal data is anonymized earlier still. Monthly partitions created since
 * migration 006 hold one leaf per class (`audit_log_pYYYYMM_security`,
 * `_other`): a leaf goes once its whole month is older than its class's
 * period. Months from before 006 ("mixed") go once every class may go. The
 * DEFAULT partition is never dropped.
 *
 * `planRetention` says what `applyRetention` would do as of a time. Apply is
 * idempotent, holds a session lock (a second run waits, then finds nothing
 * left to do), and drops each partition in its own transaction that records
 * the chain links it removes first (recordAndDropPartitions): a crash loses
 * nothing and leaves no half-dropped partition; running it again goes on.
 */
import type { ClientBase } from 'pg';
import { toStoreError } from './errors';
import { checkName, DEFAULT_SCHEMA, quoteIdent } from './identifiers';
import { erasePersonalData, monthEnd, recordAndDropPartitions } from './retention';

/** How long each class is kept, in days. */
export interface RetentionPolicy {
  /** Security events (category `security`): default 730 (2 years). */
  securityDays: number;
  /** Every other audit event: default 365. */
  otherDays: number;
  /** Personal data of any event is erased after: default 365. */
  anonymizeDays: number;
}

/** The review's schedule. */
export const DEFAULT_RETENTION_POLICY: Readonly<RetentionPolicy> = { securityDays: 730, otherDays: 365, anonymizeDays: 365 };

/** A retention class; `mixed` are months from before migration 006, holding both. */
export type RetentionClass = 'security' | 'other' | 'mixed';

/** One partition retention drops. */
export interface PartitionDrop {
  partition: string;
  class: RetentionClass;
  /** `YYYY-MM`. */
  month: string;
  rows: number;
}

/** What retention does (or did) as of a time. */
export interface RetentionPlan {
  asOf: Date;
  policy: RetentionPolicy;
  /** Per class: events at or before `cutoff`'s month end go. */
  classes: Array<{ class: 'security' | 'other'; cutoff: Date; rowsToDrop: number; oldestKept: Date | null }>;
  drops: PartitionDrop[];
  /** Events kept whose personal data is (to be) erased: recorded before `before`. */
  anonymize: { before: Date; events: number };
}

/** Options of planRetention / applyRetention. */
export interface RetentionRunOptions {
  /** Schema of the audit tables (default `cvd_activity`). */
  schema?: string;
  /** The time to plan for (default now). */
  asOf?: Date;
  policy?: Partial<RetentionPolicy>;
  /** Called after each partition dropped (progress). */
  onDrop?: (drop: PartitionDrop, events: number) => void;
}

interface Partition { name: string; parent: string; leaf: boolean; level: number }

const DAY_MS = 86_400_000;

/** What applyRetention would do as of `asOf` (read only). */
export async function planRetention(client: ClientBase, options: RetentionRunOptions = {}): Promise<RetentionPlan> {
  const { schema, s, asOf, policy } = settings(options);
  try {
    return await plan(client, schema, s, asOf, policy);
  } catch (err) {
    throw toStoreError(err, `planning retention in schema ${schema}`);
  }
}

/** Applies the plan as of `asOf` (default now): drops what expired, class by class, then anonymizes; returns what it did. */
export async function applyRetention(client: ClientBase, options: RetentionRunOptions = {}): Promise<RetentionPlan> {
  const { schema, s, asOf, policy } = settings(options);
  const lock = `${schema}.retention`;
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [lock]);
    try {
      const planned = await plan(client, schema, s, asOf, policy);
      const done: PartitionDrop[] = [];
      for (const drop of planned.drops) {
        const events = await dropOne(client, schema, s, drop);
        if (events === null) continue; // gone meanwhile (another host's run)
        done.push({ ...drop, rows: events });
        options.onDrop?.(drop, events);
      }
      const erased = await erasePersonalData(client, { schema, before: planned.anonymize.before });
      return { ...planned, drops: done, anonymize: { ...planned.anonymize, events: erased } };
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lock]).catch(() => {});
    }
  } catch (err) {
    throw toStoreError(err, `applying retention in schema ${schema}`);
  }
}

function settings(options: RetentionRunOptions) {
  const schema = checkName('schema', options.schema ?? DEFAULT_SCHEMA);
  const asOf = options.asOf ?? new Date();
  if (!(asOf instanceof Date) || Number.isNaN(asOf.getTime())) throw new TypeError(`asOf must be a valid Date, got ${String(asOf)}`);
  const policy = { ...DEFAULT_RETENTION_POLICY, ...options.policy };
  for (const [k, v] of Object.entries(policy)) {
    if (!Number.isInteger(v) || v < 1) throw new TypeError(`retention ${k} must be a whole number of days of at least 1, got ${String(v)}`);
  }
  return { schema, s: quoteIdent(schema), asOf, policy };
}

/** Drops one planned partition in its own transaction; null when it no longer exists. */
async function dropOne(client: ClientBase, schema: string, s: string, drop: PartitionDrop): Promise<number | null> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${schema}.audit_log partitions`]);
    const exists = await client.query('SELECT to_regclass($1) AS t', [`${s}.${quoteIdent(drop.partition)}`]);
    if (exists.rows[0].t === null) {
      await client.query('ROLLBACK');
      return null;
    }
    const events = await recordAndDropPartitions(client, s, [drop.partition]);
    // A month whose two class leaves are both gone leaves an empty parent behind: drop it too.
    if (drop.class !== 'mixed') {
      const parent = drop.partition.replace(/_(security|other)$/, '');
      const left = await client.query(`SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = to_regclass($1)`, [`${s}.${quoteIdent(parent)}`]);
      if (left.rows[0].n === 0) await client.query(`DROP TABLE ${s}.${quoteIdent(parent)}`);
    }
    await client.query('COMMIT');
    return events;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

async function plan(client: ClientBase, schema: string, s: string, asOf: Date, policy: RetentionPolicy): Promise<RetentionPlan> {
  const cutoff = { security: asOf.getTime() - policy.securityDays * DAY_MS, other: asOf.getTime() - policy.otherDays * DAY_MS };
  const { rows: tree } = await client.query<Partition>(
    `SELECT c.relname AS name, p.relname AS parent, t.isleaf AS leaf, t.level
       FROM pg_partition_tree(to_regclass($1)) t JOIN pg_class c ON c.oid = t.relid LEFT JOIN pg_class p ON p.oid = t.parentrelid
      WHERE t.level > 0`, [`${s}.audit_log`]);
  const drops: PartitionDrop[] = [];
  for (const part of tree) {
    if (!part.leaf || !/^audit_log_p\d{6}(_security|_other)?$/.test(part.name)) continue;
    const cls: RetentionClass = part.name.endsWith('_security') ? 'security' : part.name.endsWith('_other') ? 'other' : 'mixed';
    const due = cls === 'mixed' ? Math.min(cutoff.security, cutoff.other) : cutoff[cls];
    if (monthEnd(part.name) > due) continue;
    const n = await client.query(`SELECT count(*)::int AS n FROM ${s}.${quoteIdent(part.name)}`);
    const month = /_p(\d{4})(\d{2})/.exec(part.name)!;
    drops.push({ partition: part.name, class: cls, month: `${month[1]}-${month[2]}`, rows: n.rows[0].n });
  }
  drops.sort((a, b) => (a.month === b.month ? a.partition.localeCompare(b.partition) : a.month.localeCompare(b.month)));
  const dropped = drops.map((d) => d.partition);
  const keptWhere = `l.tableoid NOT IN (SELECT to_regclass(${quoteLiteralList(schema, dropped)}))`;
  const classes: RetentionPlan['classes'] = [];
  for (const cls of ['security', 'other'] as const) {
    const oldest = await client.query(`SELECT min(l.created_at) AS t FROM ${s}.audit_log l
      WHERE (l.category = 'security') = $1 AND ${dropped.length ? keptWhere : 'true'}`, [cls === 'security']);
    const rowsToDrop = drops.filter((d) => d.class === cls).reduce((n, d) => n + d.rows, 0);
    classes.push({ class: cls, cutoff: new Date(cutoff[cls]), rowsToDrop, oldestKept: oldest.rows[0].t });
  }
  const before = new Date(asOf.getTime() - policy.anonymizeDays * DAY_MS);
  const anon = await client.query(`SELECT count(*)::int AS n FROM ${s}.audit_personal p JOIN ${s}.audit_log l ON l.event_id = p.event_id
    WHERE p.erased_at IS NULL AND l.created_at < $1 AND ${dropped.length ? keptWhere : 'true'}`, [before.toISOString()]);
  return { asOf, policy, classes, drops, anonymize: { before, events: anon.rows[0].n } };
}

/** `unnest(ARRAY['"s"."t1"', …])`: the dropped partitions' qualified names, for to_regclass. */
function quoteLiteralList(schema: string, names: readonly string[]): string {
  const items = names.map((n) => `'${`${quoteIdent(schema)}.${quoteIdent(n)}`.replace(/'/g, "''")}'`);
  return `unnest(ARRAY[${items.join(',')}]::text[])`;
}
