/** `cvd-activity audit query`: filtered rows of the audit trail; the read is audited before anything is shown. */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { queryAuditTrail } from '../../store/query';
import { queryWithArchive } from '../../store/archiveQuery';
import type { AuditQuery } from '../../store/query';
import { CliError, EXIT } from '../CliError';
import { databaseError, requireSchema, withClient } from '../connection';
import type { CliAuditEvent } from '../cliAudit';
import type { CliContext } from '../program';
import { formatCsv, formatJson, formatTable } from './format';
import { formatOption, parseChoice, parseIntIn, parseTime } from './options';

const FORMATS = ['table', 'json', 'csv'] as const;

interface QueryFlags {
  action?: string;
  user?: string;
  resource?: string;
  since?: string;
  until?: string;
  outcome?: string;
  limit: string;
  format: string;
  archive?: string;
}

/** The command line of the filters, as a reader would type it (`--action LOGIN_FAILED --since 24h`). */
function describeFilters(flags: QueryFlags): string {
  const parts = (['action', 'user', 'resource', 'since', 'until', 'outcome'] as const)
    .filter((k) => flags[k] !== undefined)
    .map((k) => `--${k} ${flags[k]}`);
  return parts.length ? parts.join(' ') : '(no filters)';
}

/**
 * What the CLI records about this read: DATA_EXPORT for json/csv (data leaves
 * as a file), VIEW_USER_ACTIVITY for one user's events, else
 * VIEW_ACTIVITY_MONITOR naming the filters.
 */
function readEvent(query: AuditQuery, flags: QueryFlags, format: (typeof FORMATS)[number], schema: string, rows: number): CliAuditEvent {
  const dateRange = query.since || query.until
    ? { from: query.since?.toISOString() ?? 'beginning', to: query.until?.toISOString() ?? 'now' }
    : undefined;
  if (format !== 'table') {
    const filters = Object.fromEntries((['action', 'user', 'resource', 'since', 'until', 'outcome', 'limit'] as const)
      .filter((k) => flags[k] !== undefined).map((k) => [k, flags[k]]));
    return {
      action: 'DATA_EXPORT',
      fields: {
        resourceType: 'audit_trail', resourceId: `${schema}.audit_trail`,
        details: { dataset: 'audit_trail', format, record_count: rows, filters, ...(dateRange ? { date_range: dateRange } : {}) },
      },
    };
  }
  if (query.user !== undefined) {
    return {
      action: 'VIEW_USER_ACTIVITY',
      fields: { resourceId: query.user, affectedRecords: rows, details: { target_user_id: query.user, ...(dateRange ? { date_range: dateRange } : {}) } },
    };
  }
  return {
    action: 'VIEW_ACTIVITY_MONITOR',
    fields: { resourceType: 'audit_trail', resourceId: `${schema}.audit_trail`, affectedRecords: rows, details: { view: `audit query ${describeFilters(flags)}`.slice(0, 1024) } },
  };
}

/** Registers `audit query`. */
export function registerAuditQuery(_program: Command, cli: CliContext): void {
  cli.group('audit', 'read and check the audit trail').command('query')
    .description('show audit events, newest first (the read itself is recorded as VIEW_USER_ACTIVITY or DATA_EXPORT)')
    .option('--action <names>', 'action name(s), comma-separated (e.g. PRICE_CHANGE,LOGIN_FAILED)')
    .option('--user <id>', 'actor user id')
    .option('--resource <type[:id]>', 'resource type, optionally with its id (device:D-17)')
    .option('--since <time>', 'from this time: ISO 8601, `now`, or a duration ago (24h, 7d)')
    .option('--until <time>', 'before this time (same forms as --since)')
    .option('--outcome <outcome>', 'success or failure')
    .option('--limit <n>', 'most events shown (1-100000)', '100')
    .option('--archive <dir>', 'also read the archived events (retention --archive-dir)')
    .addOption(formatOption(FORMATS, 'table, json or csv (json and csv are complete and recorded as a DATA_EXPORT)'))
    .action(async (flags: QueryFlags, command: Command) => {
      const format = parseChoice('--format', flags.format, FORMATS);
      const query: AuditQuery = { limit: parseIntIn('--limit', flags.limit, 1, 100_000) };
      if (flags.action !== undefined) query.action = flags.action.split(',').map((a) => a.trim()).filter(Boolean);
      if (flags.user !== undefined) query.user = flags.user;
      if (flags.resource !== undefined) query.resource = flags.resource;
      if (flags.since !== undefined) query.since = parseTime('--since', flags.since);
      if (flags.until !== undefined) query.until = parseTime('--until', flags.until);
      if (flags.outcome !== undefined) query.outcome = parseChoice('--outcome', flags.outcome, ['success', 'failure'] as const);
      const conn = cli.connection(command);
      query.schema = conn.schema;

      const rows = await withClient(conn, `querying schema ${conn.schema}`, async (client) => {
        await requireSchema(client, conn);
        return flags.archive === undefined ? queryAuditTrail(client, query) : queryWithArchive(client, { ...query, archiveDir: resolve(flags.archive) });
      });
      try {
        await cli.recordAudit([readEvent(query, flags, format, conn.schema, rows.length)], conn);
      } catch (err) {
        const reason = databaseError(err, conn, 'recording this read').message;
        throw new CliError(EXIT.DATABASE, `this read could not be recorded in the audit trail, so nothing is shown: ${reason}`, { cause: err });
      }
      cli.stdout.write(format === 'json' ? formatJson(rows) : format === 'csv' ? formatCsv(rows) : formatTable(rows));
    });
}
