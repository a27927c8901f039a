/** `cvd-activity audit query`: filtered rows of the audit trail; the read is audited before anything is shown. */
import type { Command } from 'commander';
import { queryAuditTrail } from '../../store/query';
import type { AuditQuery } from '../../store/query';
import { CliError, EXIT } from '../CliError';
import { databaseError, requireSchema, withClient } from '../connection';
import type { CliContext } from '../program';
import { formatCsv, formatJson, formatTable } from './format';
import { parseChoice, parseIntIn, parseTime } from './options';

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
    .option('--format <format>', 'table, json or csv (json and csv count as a data export)', 'table')
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
        return queryAuditTrail(client, query);
      });
      const exported = format !== 'table';
      const filters = Object.fromEntries(Object.entries(flags).filter(([k, v]) => v !== undefined && k !== 'format'));
      try {
        await cli.recordAudit({
          action: exported ? 'DATA_EXPORT' : 'VIEW_USER_ACTIVITY',
          severity: exported ? 'high' : 'medium',
          resourceType: query.user !== undefined ? 'user' : 'audit_trail',
          resourceId: query.user ?? null,
          details: { command: 'audit query', filters, format, rows: rows.length },
          affectedRecords: rows.length,
        }, conn);
      } catch (err) {
        const reason = databaseError(err, conn, 'recording this read').message;
        throw new CliError(EXIT.DATABASE, `this read could not be recorded in the audit trail, so nothing is shown: ${reason}`, { cause: err });
      }
      cli.stdout.write(format === 'json' ? formatJson(rows) : format === 'csv' ? formatCsv(rows) : formatTable(rows));
    });
}
