/**
 * `cvd-activity alerts check`: evaluates the alert rules against the audit
 * trail, prints what fires with its evidence, optionally records each firing
 * as a SECURITY_ALERT audit event, and fails (exit 1) when a rule of
 * `--fail-on` severity (default critical) fired, so cron mails someone.
 * `alerts list` prints the rules. Exit codes as for every command
 * (CliError.ts): 2 bad flags, 3 database, 4 internal.
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import { evaluateAlerts, recordedRecently } from '../../alerts/evaluate';
import { ALERT_RULES } from '../../alerts/rules';
import { ALERTS_ACTOR_ID, exitCodeFor, FAIL_ON_CHOICES, formatJson, formatRules, securityAlertEvent } from '../../alerts/report';
import { alignColumns } from '../alignColumns';
import type { FailOn } from '../../alerts/report';
import type { AlertFiring, AlertResult, AlertRule } from '../../alerts/types';
import { CliError, EXIT, usageError } from '../CliError';
import { requireSchema, withClient } from '../connection';
import type { CliConnection } from '../connection';
import type { CliContext, CommandModule } from '../program';
import { formatOption, parseTime } from './options';

/** What the composition root can inject into the alerts commands. */
export interface AlertCommandDeps {
  /**
   * Stores one firing as a SECURITY_ALERT audit event and resolves once it is
   * durably accepted. The composition root routes it through the audit
   * pipeline: `audit.record('SECURITY_ALERT', { ...securityAlertEvent(f), actor: { id: ALERTS_ACTOR_ID } })`
   * then a flush. Default: built by the audit catalog and written through the store's writer on the stream `cli@<host>`.
   */
  recordSecurityAlert?: (firing: AlertFiring, conn: CliConnection) => Promise<void>;
}

interface CheckFlags {
  since?: string;
  until?: string;
  format: 'table' | 'json';
  record?: boolean;
  failOn: FailOn;
  rule?: string[];
}

/** Default recorder: the firing's SECURITY_ALERT through the catalog and the CLI's store-writer sink (cliAudit.ts). */
function recordWithCatalog(cli: CliContext): (firing: AlertFiring, conn: CliConnection) => Promise<void> {
  return (firing, conn) => cli.recordAudit([{ action: 'SECURITY_ALERT', fields: { ...securityAlertEvent(firing), actor: { id: ALERTS_ACTOR_ID } } }], conn);
}

function selectRules(ids: string[] | undefined): readonly AlertRule[] {
  if (!ids) return ALERT_RULES;
  return ids.map((id) => {
    const rule = ALERT_RULES.find((r) => r.id === id);
    if (!rule) throw usageError('--rule', id, `use one of: ${ALERT_RULES.map((r) => r.id).join(', ')}`);
    return rule;
  });
}

async function check(flags: CheckFlags, command: Command, cli: CliContext, record: (f: AlertFiring, c: CliConnection) => Promise<void>): Promise<void> {
  const now = Date.now();
  const since = flags.since === undefined ? undefined : parseTime('--since', flags.since, now);
  const until = flags.until === undefined ? new Date(now) : parseTime('--until', flags.until, now);
  if (since && since > until) throw usageError('--since', flags.since, `it must be before --until (${until.toISOString()})`);
  const rules = selectRules(flags.rule);
  const conn = cli.connection(command);
  const { results, toRecord } = await withClient(conn, `checking alerts in schema ${conn.schema}`, async (client) => {
    await requireSchema(client, conn);
    const results = await evaluateAlerts(client, { schema: conn.schema, since, until, rules });
    const toRecord: AlertFiring[] = [];
    if (flags.record) {
      for (const r of results) {
        for (const f of r.firings) if (!(await recordedRecently(client, conn.schema, f, r.rule.windowSeconds, until))) toRecord.push(f);
      }
    }
    return { results, toRecord };
  });
  cli.stdout.write(flags.format === 'json' ? formatJson(results) : formatResults(results));
  for (const f of toRecord) {
    try {
      await record(f, conn);
    } catch (err) {
      throw new CliError(EXIT.DATABASE, `could not record SECURITY_ALERT for ${f.ruleId}: ${(err as Error).message}`, { cause: err });
    }
  }
  if (flags.record && flags.format !== 'json') cli.stdout.write(`recorded ${toRecord.length} SECURITY_ALERT event(s)\n`);
  if (exitCodeFor(results, flags.failOn) !== 0) {
    const fired = results.filter((r) => r.firings.length > 0).map((r) => `${r.rule.id} (${r.rule.severity})`);
    throw new CliError(EXIT.FAILED, `alerts firing: ${fired.join(', ')}`);
  }
}

/** The alerts commands, with injected dependencies (see AlertCommandDeps). */
export function alertCommands(deps: AlertCommandDeps = {}): CommandModule {
  return (_program, cli) => {
    const record = deps.recordSecurityAlert ?? recordWithCatalog(cli);
    const alerts = cli.group('alerts', 'security alerts over the audit trail (the same rules Grafana evaluates)');
    alerts
      .command('check')
      .description('evaluate the alert rules; exit 1 when a rule of --fail-on severity (default critical) fires')
      .option('--since <time>', "start of the checked period: ISO 8601, `now`, or a duration ago (15m, 2h, 7d); default: each rule's own window")
      .option('--until <time>', 'end of the checked period (same forms); default: now')
      .addOption(formatOption(['table', 'json'], 'table or json'))
      .option('--record', 'store each firing as a SECURITY_ALERT audit event (once per rule window)')
      .addOption(new Option('--fail-on <severity>', 'lowest severity that makes the exit code 1').choices([...FAIL_ON_CHOICES]).default('critical'))
      .option('--rule <id...>', `only these rules (${ALERT_RULES.map((r) => r.id).join(', ')})`)
      .action((flags: CheckFlags, command: Command) => check(flags, command, cli, record));
    alerts
      .command('list')
      .description('show the alert rules: id, severity, window, threshold and what each means')
      .addOption(formatOption(['table', 'json'], 'table or json'))
      .action((flags: { format: 'table' | 'json' }) => {
        cli.stdout.write(
          flags.format === 'json'
            ? `${JSON.stringify(ALERT_RULES.map(({ id, title, severity, description, windowSeconds, evaluateEverySeconds, threshold, params, labels }) =>
                ({ id, title, severity, description, windowSeconds, evaluateEverySeconds, threshold, params, labels })), null, 2)}\n`
            : formatRules(ALERT_RULES),
        );
      });
  };
}

/** `alerts check` and `alerts list` with the default recorder (for commands/index.ts). */
export const registerAlertCommands: CommandModule = alertCommands();

/** Plain-text report: one aligned line per rule, then one indented line per firing instance. */
export function formatResults(results: readonly AlertResult[]): string {
  const ruleLines = alignColumns(results.map((r) => [
    r.rule.severity.toUpperCase(), r.rule.id, r.firings.length ? `FIRING (${r.firings.length})` : 'ok', `${r.from} .. ${r.to}`,
  ]));
  return results.flatMap((r, i) => [ruleLines[i]!, ...r.firings.map((f) => `         - ${f.message}`)]).join('\n') + '\n';
}
