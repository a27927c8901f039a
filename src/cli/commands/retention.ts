/**
 * `cvd-activity retention plan` and `retention apply`: the retention policy
 * by class (docs/data-lifecycle.md, "Retention"). Plan prints what apply would
 * do (as of now or `--as-of`); apply does it and records a RETENTION_APPLY.
 */
import type { Command } from 'commander';
import { applyRetention, DEFAULT_RETENTION_POLICY, planRetention } from '../../store/retentionClasses';
import type { RetentionPlan, RetentionPolicy } from '../../store/retentionClasses';
import { CliError, EXIT } from '../CliError';
import { databaseError, requireSchema, withClient } from '../connection';
import type { CliContext } from '../program';
import { formatOption, parseIntIn, parseTime } from './options';
import { resolve } from 'node:path';

interface PolicyFlags { securityDays: string; otherDays: string; anonymizeDays: string; archiveDays: string; compactDays: string; archiveDir?: string; format: string }

/** Registers `retention plan` and `retention apply`. */
export function registerRetentionCommands(_program: Command, cli: CliContext): void {
  const group = cli.group('retention', 'expire audit events by class and anonymize old personal data');
  const withPolicy = (command: Command) => command
    .option('--security-days <n>', 'days security events are kept', String(DEFAULT_RETENTION_POLICY.securityDays))
    .option('--other-days <n>', 'days other audit events are kept', String(DEFAULT_RETENTION_POLICY.otherDays))
    .option('--anonymize-days <n>', 'days after which personal data is erased', String(DEFAULT_RETENTION_POLICY.anonymizeDays))
    .option('--compact-days <n>', 'months ended this many days ago are compacted', String(DEFAULT_RETENTION_POLICY.compactDays))
    .option('--archive-days <n>', 'months ended this many days ago move to the archive', String(DEFAULT_RETENTION_POLICY.archiveDays))
    .option('--archive-dir <dir>', 'archive directory (gzip\'d NDJSON + manifests), else retention.archiveDir; without one nothing is archived')
    .addOption(formatOption(['table', 'json'], 'table or json'));
  withPolicy(group.command('plan').description('what `retention apply` would do, per class (read only)'))
    .option('--as-of <time>', 'plan as of this time instead of now (ISO 8601)')
    .action(async (flags: PolicyFlags & { asOf?: string }, command: Command) => {
      const conn = cli.connection(command);
      const asOf = flags.asOf === undefined ? new Date() : parseTime('--as-of', flags.asOf);
      const plan = await withClient(conn, `planning retention in schema ${conn.schema}`, async (client) => {
        await requireSchema(client, conn);
        return planRetention(client, { schema: conn.schema, asOf, policy: policyOf(flags), ...archiveDirOf(flags, cli.config().retention.archiveDir) });
      });
      cli.stdout.write(flags.format === 'json' ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(plan, 'would'));
    });
  withPolicy(group.command('apply').description('drop expired partitions per class and erase old personal data; recorded as RETENTION_APPLY'))
    .action(async (flags: PolicyFlags, command: Command) => {
      const conn = cli.connection(command);
      const done = await withClient(conn, `applying retention in schema ${conn.schema}`, async (client) => {
        await requireSchema(client, conn);
        return applyRetention(client, {
          schema: conn.schema, policy: policyOf(flags), ...archiveDirOf(flags, cli.config().retention.archiveDir),
          onDrop: (d, n, archived) => void cli.stderr.write(`cvd-activity: retention: ${archived ? 'archived' : 'dropped'} ${d.partition} (${d.class}, ${n} event(s))\n`),
        });
      });
      const months: Record<string, string[]> = {};
      for (const d of done.drops) (months[d.class] ??= []).push(d.month);
      try {
        await cli.recordAudit([{
          action: 'RETENTION_APPLY',
          fields: {
            resourceId: `${conn.schema}.audit_log`,
            details: {
              as_of: done.asOf.toISOString(), events_dropped: [...done.drops, ...done.archiveRemovals].reduce((n, d) => n + d.rows, 0),
              partitions_dropped: done.drops.map((d) => d.partition), months, personal_data_erased: done.anonymize.events, policy: { ...done.policy },
              archive_files_removed: done.archiveRemovals.map((d) => d.partition),
              partitions_compacted: done.compactions.map((d) => d.partition), events_compacted: done.compactions.reduce((n, d) => n + d.rows, 0),
              events_archived: done.archives.reduce((n, d) => n + d.rows, 0), partitions_archived: done.archives.map((d) => d.partition),
              ...(done.archiveDir ? { archive_dir: done.archiveDir } : {}),
            },
          },
        }], conn);
      } catch (err) {
        throw new CliError(EXIT.DATABASE, `retention was applied but could not be recorded in the audit trail: ${databaseError(err, conn, 'recording retention').message}`, { cause: err });
      }
      cli.stdout.write(flags.format === 'json' ? `${JSON.stringify(done, null, 2)}\n` : formatPlan(done, 'did'));
    });
}

function policyOf(flags: PolicyFlags): RetentionPolicy {
  return {
    securityDays: parseIntIn('--security-days', flags.securityDays, 1, 36_500),
    otherDays: parseIntIn('--other-days', flags.otherDays, 1, 36_500),
    anonymizeDays: parseIntIn('--anonymize-days', flags.anonymizeDays, 1, 36_500),
    archiveDays: parseIntIn('--archive-days', flags.archiveDays, 1, 36_500),
    compactDays: parseIntIn('--compact-days', flags.compactDays, 1, 36_500),
  };
}

function archiveDirOf(flags: PolicyFlags, configured: string | null): { archiveDir?: string } {
  if (flags.archiveDir === undefined) return configured === null ? {} : { archiveDir: configured };
  if (flags.archiveDir.trim() === '') throw new CliError(EXIT.USAGE, '--archive-dir must name a directory');
  return { archiveDir: resolve(flags.archiveDir) };
}

/** The plan (or what was done) for people: one line per class, then each partition. */
export function formatPlan(p: RetentionPlan, mood: 'would' | 'did'): string {
  const lines = [`retention as of ${p.asOf.toISOString()} (security ${p.policy.securityDays} d, other ${p.policy.otherDays} d, personal data ${p.policy.anonymizeDays} d):`];
  for (const c of p.classes) {
    lines.push(`  ${c.class.padEnd(8)} ${mood === 'would' ? 'drop' : 'dropped'} ${c.rowsToDrop} event(s) of months ending by ${c.cutoff.toISOString().slice(0, 10)}, `
      + `${mood === 'would' ? 'archive' : 'archived'} ${c.rowsToArchive}, ${mood === 'would' ? 'compact' : 'compacted'} ${c.rowsToCompact} event(s); oldest kept hot: ${c.oldestKept?.toISOString() ?? '-'}`);
  }
  const mixed = p.drops.filter((d) => d.class === 'mixed').reduce((n, d) => n + d.rows, 0);
  if (mixed > 0) lines.push(`  mixed    ${mood === 'would' ? 'drop' : 'dropped'} ${mixed} event(s) of months from before retention classes`);
  lines.push(`  personal data of ${p.anonymize.events} event(s) recorded before ${p.anonymize.before.toISOString().slice(0, 10)} ${mood === 'would' ? 'to erase' : 'erased'}`);
  for (const d of p.drops) lines.push(`  ${mood === 'would' ? 'drop' : 'dropped'} ${d.partition}  ${d.class}  ${d.month}  ${d.rows} event(s)`);
  for (const d of p.archiveRemovals) lines.push(`  ${mood === 'would' ? 'delete' : 'deleted'} archive ${d.partition}  ${d.class}  ${d.month}  ${d.rows} event(s)`);
  for (const d of p.compactions) lines.push(`  ${mood === 'would' ? 'compact' : 'compacted'} ${d.partition}  ${d.class}  ${d.month}  ${d.rows} event(s)`);
  for (const d of p.archives) lines.push(`  ${mood === 'would' ? 'archive' : 'archived'} ${d.partition}  ${d.class}  ${d.month}  ${d.rows} event(s)`);
  lines.push(p.archiveDir ? `  archive directory: ${p.archiveDir}` : '  no archive directory (--archive-dir): nothing is archived');
  if (p.drops.length === 0) lines.push(`  no partition ${mood === 'would' ? 'is due' : 'was due'}`);
  return `${lines.join('\n')}\n`;
}
