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
import { archiveAndDropPartition, removeArchiveFile } from './archiveWrite';
import { listArchiveFiles } from './archiveRead';
import { COMPACTED_OPTION, compactPartition } from './compaction';

/** How long each class is kept, in days. */
export interface RetentionPolicy {
  /** Security events (category `security`): default 730 (2 years). */
  securityDays: number;
  /** Every other audit event: default 365. */
  otherDays: number;
  /** Personal data of any event is erased after: default 365. */
  anonymizeDays: number;
  /** Months older than this move to the archive (when an archive directory is given): default 90. */
  archiveDays: number;
  /** Months older than this are compacted (indexes packed): default 30. */
  compactDays: number;
}

/** The review's schedule. */
export const DEFAULT_RETENTION_POLICY: Readonly<RetentionPolicy> = { securityDays: 730, otherDays: 365, anonymizeDays: 365, archiveDays: 90, compactDays: 30 };

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
  classes: Array<{ class: 'security' | 'other'; cutoff: Date; rowsToDrop: number; rowsToArchive: number; rowsToCompact: number; oldestKept: Date | null }>;
  drops: PartitionDrop[];
  /** Partitions (not dropped) whose month ended `archiveDays` ago, moved to `archiveDir`; empty without one. */
  archives: PartitionDrop[];
  /** Partitions kept hot whose month ended `compactDays` ago, not compacted yet. */
  compactions: PartitionDrop[];
  /** Archive files whose class expired, deleted (`partition` is the file name). */
  archiveRemovals: PartitionDrop[];
  /** Where archives go, or null (nothing is archived). */
  archiveDir: string | null;
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
  /** Called after each partition dropped or archived (progress). */
  onDrop?: (drop: PartitionDrop, events: number, archived: boolean) => void;
  /** Directory of the archive (`--archive-dir`); without it nothing is archived. */
  archiveDir?: string;
}

interface Partition { name: string; parent: string; leaf: boolean; level: number; compacted: boolean }

const DAY_MS = 86_400_000;

/** What applyRetention would do as of `asOf` (read only). */
export async function planRetention(client: ClientBase, options: RetentionRunOptions = {}): Promise<RetentionPlan> {
  const { schema, s, asOf, policy, archiveDir } = settings(options);
  try {
    return await plan(client, { schema, s, asOf, policy, archiveDir });
  } catch (err) {
    throw toStoreError(err, `planning retention in schema ${schema}`);
  }
}

/** Applies the plan as of `asOf` (default now): drops what expired, class by class, then anonymizes; returns what it did. */
export async function applyRetention(client: ClientBase, options: RetentionRunOptions = {}): Promise<RetentionPlan> {
  const { schema, s, asOf, policy, archiveDir } = settings(options);
  const lock = `${schema}.retention`;
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [lock]);
    try {
      const planned = await plan(client, { schema, s, asOf, policy, archiveDir });
      const done: PartitionDrop[] = [];
      for (const drop of planned.drops) {
        const events = await inPartitionTransaction(client, schema, s, drop, () => recordAndDropPartitions(client, s, [drop.partition]));
        if (events === null) continue; // gone meanwhile (another host's run)
        done.push({ ...drop, rows: events });
        options.onDrop?.(drop, events, false);
      }
      const removed: PartitionDrop[] = [];
      for (const gone of planned.archiveRemovals) {
        removed.push({ ...gone, rows: await removeArchiveFile(client, { schema, dir: planned.archiveDir!, file: gone.partition }) });
        options.onDrop?.(gone, gone.rows, true);
      }
      const archived: PartitionDrop[] = [];
      for (const target of planned.archives) {
        const dir = planned.archiveDir!;
        const events = await inPartitionTransaction(client, schema, s, target, () => archiveAndDropPartition(client, { schema, dir, target }));
        if (events === null) continue;
        archived.push({ ...target, rows: events });
        options.onDrop?.(target, events, true);
      }
      const compacted: PartitionDrop[] = [];
      for (const target of planned.compactions) {
        const events = await inPartitionTransaction(client, schema, s, target, () => compactPartition(client, { s, partition: target.partition }), false);
        if (events !== null) compacted.push({ ...target, rows: events });
      }
      const erased = await erasePersonalData(client, { schema, before: planned.anonymize.before });
      return { ...planned, drops: done, archiveRemovals: removed, archives: archived, compactions: compacted, anonymize: { ...planned.anonymize, events: erased } };
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
  if (options.archiveDir !== undefined && (typeof options.archiveDir !== 'string' || options.archiveDir === '')) {
    throw new TypeError(`archiveDir must be a non-empty directory path, got ${String(options.archiveDir)}`);
  }
  return { schema, s: quoteIdent(schema), asOf, policy, archiveDir: options.archiveDir ?? null };
}

/** Drops (or archives) one planned partition by `work`, in its own transaction; null when it no longer exists. */
async function inPartitionTransaction(
  client: ClientBase, schema: string, s: string, drop: PartitionDrop, work: () => Promise<number>, drops = true,
): Promise<number | null> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${schema}.audit_log partitions`]);
    const exists = await client.query('SELECT to_regclass($1) AS t', [`${s}.${quoteIdent(drop.partition)}`]);
    if (exists.rows[0].t === null) {
      await client.query('ROLLBACK');
      return null;
    }
    const events = await work();
    // A month whose two class leaves are both gone leaves an empty parent behind: drop it too.
    if (drops && drop.class !== 'mixed') {
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

interface PlanInput { schema: string; s: string; asOf: Date; policy: RetentionPolicy; archiveDir: string | null }

async function plan(client: ClientBase, { schema, s, asOf, policy, archiveDir }: PlanInput): Promise<RetentionPlan> {
  const cutoff = { security: asOf.getTime() - policy.securityDays * DAY_MS, other: asOf.getTime() - policy.otherDays * DAY_MS };
  const archiveCutoff = asOf.getTime() - policy.archiveDays * DAY_MS;
  const compactCutoff = asOf.getTime() - policy.compactDays * DAY_MS;
  const { rows: tree } = await client.query<Partition>(
    `SELECT c.relname AS name, p.relname AS parent, t.isleaf AS leaf, t.level, coalesce($2 = ANY(c.reloptions), false) AS compacted
       FROM pg_partition_tree(to_regclass($1)) t JOIN pg_class c ON c.oid = t.relid LEFT JOIN pg_class p ON p.oid = t.parentrelid
      WHERE t.level > 0`, [`${s}.audit_log`, COMPACTED_OPTION]);
  const drops: PartitionDrop[] = [];
  const archives: PartitionDrop[] = [];
  const compactions: PartitionDrop[] = [];
  for (const part of tree) {
    if (!part.leaf || !/^audit_log_p\d{6}(_security|_other)?$/.test(part.name)) continue;
    const cls: RetentionClass = part.name.endsWith('_security') ? 'security' : part.name.endsWith('_other') ? 'other' : 'mixed';
    const due = cls === 'mixed' ? Math.min(cutoff.security, cutoff.other) : cutoff[cls];
    const end = monthEnd(part.name);
    const list = end <= due ? drops : archiveDir !== null && end <= archiveCutoff ? archives : end <= compactCutoff && !part.compacted ? compactions : null;
    if (list === null) continue;
    const n = await client.query(`SELECT count(*)::int AS n FROM ${s}.${quoteIdent(part.name)}`);
    const month = /_p(\d{4})(\d{2})/.exec(part.name)!;
    list.push({ partition: part.name, class: cls, month: `${month[1]}-${month[2]}`, rows: n.rows[0].n });
  }
  const archiveRemovals: PartitionDrop[] = [];
  for (const f of archiveDir === null ? [] : await listArchiveFiles(client, schema)) {
    const cls = f.class as RetentionClass;
    const due = cls === 'mixed' ? Math.min(cutoff.security, cutoff.other) : cutoff[cls];
    if (monthEnd(f.partition) <= due) archiveRemovals.push({ partition: f.file, class: cls, month: f.month, rows: f.events });
  }
  const byMonth = (a: PartitionDrop, b: PartitionDrop) => (a.month === b.month ? a.partition.localeCompare(b.partition) : a.month.localeCompare(b.month));
  drops.sort(byMonth);
  archives.sort(byMonth);
  compactions.sort(byMonth);
  const dropped = [...drops, ...archives].map((d) => d.partition);
  const keptWhere = `l.tableoid NOT IN (SELECT to_regclass(${quoteLiteralList(schema, dropped)}))`;
  const classes: RetentionPlan['classes'] = [];
  for (const cls of ['security', 'other'] as const) {
    const oldest = await client.query(`SELECT min(l.created_at) AS t FROM ${s}.audit_log l
      WHERE (l.category = 'security') = $1 AND ${dropped.length ? keptWhere : 'true'}`, [cls === 'security']);
    const rows = (list: PartitionDrop[]) => list.filter((d) => d.class === cls).reduce((n, d) => n + d.rows, 0);
    classes.push({ class: cls, cutoff: new Date(cutoff[cls]), rowsToDrop: rows(drops) + rows(archiveRemovals), rowsToArchive: rows(archives), rowsToCompact: rows(compactions), oldestKept: oldest.rows[0].t });
  }
  const before = new Date(asOf.getTime() - policy.anonymizeDays * DAY_MS);
  // Hot events not dropped (archived ones included: they keep their personal data here), and events archived earlier.
  const keptOrArchived = drops.length ? `l.tableoid NOT IN (SELECT to_regclass(${quoteLiteralList(schema, drops.map((d) => d.partition))}))` : 'true';
  const anon = await client.query(`SELECT (SELECT count(*) FROM ${s}.audit_personal p JOIN ${s}.audit_log l ON l.event_id = p.event_id
      WHERE p.erased_at IS NULL AND l.created_at < $1 AND ${keptOrArchived})::int
    + (SELECT count(*) FROM ${s}.audit_personal p WHERE p.erased_at IS NULL AND p.archived_created_at < $1)::int AS n`, [before.toISOString()]);
  return { asOf, policy, classes, drops, archives, compactions, archiveRemovals, archiveDir, anonymize: { before, events: anon.rows[0].n } };
}

/** `unnest(ARRAY['"s"."t1"', …])`: the dropped partitions' qualified names, for to_regclass. */
function quoteLiteralList(schema: string, names: readonly string[]): string {
  const items = names.map((n) => `'${`${quoteIdent(schema)}.${quoteIdent(n)}`.replace(/'/g, "''")}'`);
  return `unnest(ARRAY[${items.join(',')}]::text[])`;
}
