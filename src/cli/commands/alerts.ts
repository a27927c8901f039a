/**
 * `cvd-activity alerts check`: evaluates the alert rules against the audit
 * trail, prints what fires with its evidence, optionally records each firing
 * as a SECURITY_ALERT audit event, and exits 1 when a critical rule fired
 * (so cron mails someone). Exit 2: the check itself could not run.
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import pg from 'pg';
import { evaluateAlerts, recordedRecently } from '../../alerts/evaluate';
import type { Queryable } from '../../alerts/evaluate';
import { parseInstant } from '../../alerts/duration';
import { ALERT_RULES } from '../../alerts/rules';
import { exitCodeFor, FAIL_ON_CHOICES, formatJson, formatRules, formatTable } from '../../alerts/report';
import type { FailOn } from '../../alerts/report';
import type { AlertFiring, SecurityAlertRecorder } from '../../alerts/types';

/** A database connection the command opens and closes. */
export type AlertsDatabase = Queryable & { end(): Promise<void> };

/** What the composition root can inject into the alerts commands. */
export interface AlertCommandDeps {
  /** Opens the connection; default: `--database-url`, else node-postgres' own PG* defaults. */
  connect?: (databaseUrl: string | undefined) => Promise<AlertsDatabase>;
  /** Default schema of the audit tables (the configured one; `cvd_activity` if absent). */
  schema?: string;
  /**
   * Stores a firing as a SECURITY_ALERT audit event (build it with
   * `securityAlertEvent(firing)`, actor `system:cvd-activity-alerts`) and
   * resolves once it is durably accepted; `--record` is refused without it.
   */
  recordSecurityAlert?: SecurityAlertRecorder;
  /** Output sinks (tests); default process.stdout / process.stderr. */
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  /** Receives the exit code; default sets process.exitCode. */
  setExitCode?: (code: number) => void;
}

interface CheckOptions {
  since?: string;
  until?: string;
  format: 'table' | 'json';
  record?: boolean;
  failOn: FailOn;
  rule?: string[];
  schema: string;
  databaseUrl?: string;
}

async function defaultConnect(databaseUrl: string | undefined): Promise<AlertsDatabase> {
  const client = new pg.Client(databaseUrl ? { connectionString: databaseUrl } : {});
  await client.connect();
  return client;
}

/** Adds `alerts check` (and the `alerts` group) to the CLI program. */
export function registerAlertCommands(program: Command, deps: AlertCommandDeps = {}): Command {
  const out = deps.stdout ?? ((s: string) => void process.stdout.write(s));
  const err = deps.stderr ?? ((s: string) => void process.stderr.write(s));
  const setExit = deps.setExitCode ?? ((code: number) => void (process.exitCode = code));
  const alerts = program.command('alerts').description('security alerts over the audit trail (the same rules Grafana evaluates)');

  alerts
    .command('check')
    .description('evaluate every alert rule now; exit 1 when a rule of --fail-on severity (default critical) fires, 2 when the check cannot run')
    .option('--since <when>', 'start of the checked period: a duration back from now (15m, 2h, 7d) or an ISO time; default: each rule\'s own window')
    .option('--until <when>', 'end of the checked period (same forms); default: now')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('--record', 'store each firing as a SECURITY_ALERT audit event')
    .addOption(new Option('--fail-on <severity>', 'lowest severity that makes the exit code 1').choices([...FAIL_ON_CHOICES]).default('critical'))
    .option('--rule <id...>', `only these rules (${ALERT_RULES.map((r) => r.id).join(', ')})`)
    .option('--schema <name>', 'schema of the audit tables', deps.schema ?? 'cvd_activity')
    .option('--database-url <url>', 'postgres:// URL (default: the configured database)')
    .action(async (opts: CheckOptions) => {
      try {
        setExit(await check(opts, deps, out));
      } catch (e) {
        err(`cvd-activity alerts check: ${(e as Error).message}\n`);
        setExit(2);
      }
    });
  alerts
    .command('list')
    .description('show the alert rules: id, severity, window, threshold and what each means')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action((opts: { format: 'table' | 'json' }) => {
      out(opts.format === 'json'
        ? JSON.stringify(ALERT_RULES.map(({ id, title, severity, description, windowSeconds, threshold, params, labels }) =>
            ({ id, title, severity, description, windowSeconds, threshold, params, labels })), null, 2) + '\n'
        : formatRules(ALERT_RULES));
      setExit(0);
    });
  return alerts;
}

async function check(opts: CheckOptions, deps: AlertCommandDeps, out: (s: string) => void): Promise<number> {
  const now = new Date();
  const since = opts.since ? parseInstant('--since', opts.since, now) : undefined;
  const until = opts.until ? parseInstant('--until', opts.until, now) : now;
  const rules = opts.rule
    ? opts.rule.map((id) => {
        const rule = ALERT_RULES.find((r) => r.id === id);
        if (!rule) throw new Error(`--rule ${JSON.stringify(id)} is not a rule; rules are ${ALERT_RULES.map((r) => r.id).join(', ')}`);
        return rule;
      })
    : ALERT_RULES;
  if (opts.record && !deps.recordSecurityAlert) {
    throw new Error('--record needs the audit pipeline, which this build of the CLI was not given');
  }
  const db = await (deps.connect ?? defaultConnect)(opts.databaseUrl);
  let results;
  const toRecord: AlertFiring[] = [];
  try {
    results = await evaluateAlerts(db, { schema: opts.schema, since, until, rules });
    if (opts.record) {
      for (const r of results) {
        for (const f of r.firings) {
          if (!(await recordedRecently(db, opts.schema, f, r.rule.windowSeconds, now))) toRecord.push(f);
        }
      }
    }
  } finally {
    await db.end().catch(() => {});
  }
  out(opts.format === 'json' ? formatJson(results) : formatTable(results));
  for (const f of toRecord) await deps.recordSecurityAlert!(f);
  if (opts.record && opts.format !== 'json') out(`recorded ${toRecord.length} SECURITY_ALERT event(s)\n`);
  return exitCodeFor(results, opts.failOn);
}
